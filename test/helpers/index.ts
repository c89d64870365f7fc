import Fastify, { type FastifyInstance, type FastifyHttpOptions } from 'fastify'
import type { Server } from 'node:http'
import WebSocket, { type ClientOptions } from 'ws'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import heartbeat, { type FastifyWsHeartbeatOptions } from '../../lib/index.js'

export interface TestTap {
  teardown (fn: () => unknown): void
}

/** A Fastify app with the plugin, closed at teardown. Routes are added by `routes`. */
export async function startApp (
  t: TestTap,
  opts: FastifyWsHeartbeatOptions,
  routes: (app: FastifyInstance) => void,
  fastifyOpts: FastifyHttpOptions<Server> = {}
): Promise<{ app: FastifyInstance, url: string, port: number }> {
  const app = Fastify(fastifyOpts)
  await app.register(heartbeat, opts)
  routes(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  return { app, url: `ws://127.0.0.1:${port}`, port }
}

/** A real `ws` client over TCP; terminated at teardown. */
export function connect (t: TestTap, url: string, opts: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts)
    t.teardown(() => ws.terminate())
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

/** Resolves with the event's arguments, or rejects after `ms`. */
export function once<T extends unknown[] = unknown[]> (emitter: any, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener)
      reject(new Error(`no '${event}' within ${ms} ms`))
    }, ms)
    function listener (...args: unknown[]): void {
      clearTimeout(timer)
      resolve(args as T)
    }
    emitter.once(event, listener)
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 10 ms until it is true, or rejects after `ms`. */
export async function until (check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`)
    await sleep(10)
  }
}

/** Collects text messages received by a client. */
export function collect (ws: WebSocket): string[] {
  const got: string[] = []
  ws.on('message', (data, isBinary) => { if (!isBinary) got.push(data.toString()) })
  return got
}

/** A stream for Fastify's logger that keeps every line it is given. */
export function logLines (): { lines: string[], stream: Writable } {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(chunk.toString())
      callback()
    }
  })
  return { lines, stream }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server started later, or for nothing listening). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createNetServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}
