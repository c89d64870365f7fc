// One instance of the cluster benchmark (bench/cluster.ts): the plugin with `cluster`, or
// Socket.IO 4 with @socket.io/redis-adapter, on the same Redis. The publisher instance
// sends messages that carry their send time (performance.timeOrigin + now, comparable
// across processes on one machine).
import Fastify from 'fastify'
import Redis from 'ioredis'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setImmediate as tick } from 'node:timers/promises'
import { Server } from 'socket.io'
import { createAdapter } from '@socket.io/redis-adapter'
import heartbeat from '../lib/index.js'
import { config, serve } from './common/proc.js'

interface Cfg { kind: 'plugin' | 'socketio', redisPort: number, node: string }
interface PublishArgs { mode: 'rate' | 'max', rate: number, seconds: number, size: number }

const cfg = config<Cfg>()
const redis = new Redis({ host: '127.0.0.1', port: cfg.redisPort })
let send: (text: string) => void = () => {}
let errors = 0

function message (size: number): string {
  const ts = (performance.timeOrigin + performance.now()).toFixed(3)
  return ts + '|' + 'x'.repeat(Math.max(0, size - ts.length - 1))
}

async function listen (): Promise<number> {
  if (cfg.kind === 'plugin') {
    const app = Fastify()
    await app.register(heartbeat, { cluster: { redis, node: cfg.node } })
    app.get('/bench', { websocket: true }, () => {})
    await app.listen({ host: '127.0.0.1', port: 0 })
    send = (text) => { app.wsConnections.publish(text, { route: '/bench' }).catch(() => { errors++ }) }
    return (app.server.address() as AddressInfo).port
  }
  const server = createServer()
  const io = new Server(server, { transports: ['websocket'], adapter: createAdapter(redis, redis.duplicate()) })
  send = (text) => { io.emit('m', text) }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function publish (args: PublishArgs): Promise<{ sent: number, errors: number }> {
  const end = performance.now() + args.seconds * 1000
  let sent = 0
  if (args.mode === 'rate') {
    const start = performance.now()
    const total = Math.round(args.rate * args.seconds)
    while (sent < total) {
      const due = Math.min(total, Math.floor((performance.now() - start) * args.rate / 1000))
      while (sent < due) { send(message(args.size)); sent++ }
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  } else {
    // As fast as possible, yielding to I/O between batches so Redis replies are read.
    while (performance.now() < end) {
      for (let i = 0; i < 20; i++) { send(message(args.size)); sent++ }
      await tick()
    }
  }
  return { sent, errors }
}

serve({
  listen,
  publish,
  cpu: () => process.cpuUsage()
})
