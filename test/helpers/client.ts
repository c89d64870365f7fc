import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { WebSocketServer, type ServerOptions } from 'ws'
import { HeartbeatClient, type HeartbeatClientEvents, type HeartbeatClientOptions } from '../../lib/client/index.js'

type Events = HeartbeatClientEvents<Buffer>

/** A plain `ws` server on 127.0.0.1, closed (clients terminated) at teardown. */
export async function server (t: Test, options: ServerOptions = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options })
  await once(wss, 'listening')
  t.teardown(() => new Promise<void>((resolve) => {
    for (const ws of wss.clients) ws.terminate()
    wss.close(() => resolve())
  }))
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` }
}

/** A HeartbeatClient closed at teardown. */
export function client (t: Test, url: string, options: HeartbeatClientOptions): HeartbeatClient {
  const c = new HeartbeatClient(url, options)
  t.teardown(() => c.close())
  return c
}

/** Resolves with the arguments of the next such event, or rejects after `ms`. */
export function next<K extends keyof Events> (c: HeartbeatClient, event: K, ms = 3000): Promise<Parameters<Events[K]>> {
  return new Promise((resolve, reject) => {
    const listener = ((...args: Parameters<Events[K]>) => {
      clearTimeout(timer)
      c.off(event, listener)
      resolve(args)
    }) as Events[K]
    const timer = setTimeout(() => {
      c.off(event, listener)
      reject(new Error(`no '${event}' within ${ms} ms`))
    }, ms)
    c.on(event, listener)
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `test` until true or `ms` passed, then asserts it. */
export async function until (t: Test, what: string, test: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms
  while (!test() && Date.now() < end) await sleep(10)
  t.ok(test(), what)
}
