/**
 * The server process of the broadcast benchmark. `app` (Fastify + @fastify/websocket, no
 * heartbeat) broadcasts to its connections in one of three ways, chosen per window so that
 * all three run on the very same sockets:
 *   loop     for (const c of app.websocketServer.clients) c.send(data)
 *   fanout   lib/fanout.ts (maxBackpressure at the plugin's default)
 *   raw      the floor: one pre-built frame, net.Socket.write to every socket
 * `socketio` is socket.io 4 (websocket transport only) doing io.emit('m', data).
 */
import { createServer } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { AddressInfo, Socket } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import type { WebSocket } from 'ws'
import { Server as SocketIoServer } from 'socket.io'
import { fanout, prepare } from '../lib/fanout.js'
import { config, serve } from './common/proc.js'

export type BroadcastServerKind = 'app' | 'socketio'
export type BroadcastWay = 'loop' | 'fanout' | 'raw' | 'socketio'

export interface BroadcastServerConfig { kind: BroadcastServerKind }

/** One broadcast, from the call until the driver saw every delivery at the clients. */
export interface BroadcastSample {
  /** Sockets the broadcast went to. */
  sockets: number
  /** Server CPU (user + system), µs. */
  cpuUs: number
  systemUs: number
  /** Time the event loop was busy (performance.eventLoopUtilization), ms. */
  activeMs: number
}

// The plugin's default maxBackpressure (CONTRACT.md section 3).
const MAX_BACKPRESSURE = 1_048_576

const cfg = config<BroadcastServerConfig>()
let app: FastifyInstance | null = null
let io: SocketIoServer | null = null
let port = 0

async function listen (): Promise<void> {
  if (cfg.kind === 'socketio') {
    const server = createServer()
    // No heartbeat traffic during the windows: only broadcasts are on the wire.
    io = new SocketIoServer(server, { transports: ['websocket'], serveClient: false, pingInterval: 600_000, pingTimeout: 600_000 })
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve))
    port = (server.address() as AddressInfo).port
    return
  }
  const fastify = Fastify({ logger: false })
  app = fastify
  await fastify.register(websocket)
  fastify.get('/ws', { websocket: true }, () => {})
  await fastify.listen({ host: '127.0.0.1', port: 0, backlog: 4096 })
  port = (fastify.server.address() as AddressInfo).port
}

function wsSockets (): Set<WebSocket> {
  if (io !== null) {
    const engine = io.engine as unknown as { clients: Record<string, { transport: { socket: WebSocket } }> }
    return new Set(Object.values(engine.clients).map((c) => c.transport.socket))
  }
  return (app as FastifyInstance).websocketServer.clients
}

function connections (): number {
  return io !== null ? io.of('/').sockets.size : (app as FastifyInstance).websocketServer.clients.size
}

function broadcastOnce (way: BroadcastWay, data: string, clients: Set<WebSocket>): void {
  switch (way) {
    case 'loop':
      for (const c of clients) c.send(data)
      break
    case 'fanout':
      fanout(clients, data, { maxBackpressure: MAX_BACKPRESSURE })
      break
    case 'raw': {
      const frame = (prepare(data).frame as Buffer[])[0]
      for (const c of clients) ((c as unknown as { _socket: Socket })._socket).write(frame)
      break
    }
    case 'socketio':
      (io as SocketIoServer).emit('m', data)
  }
}

/** A new `size`-byte ASCII message per broadcast, as a chat would send. */
function message (seq: number, size: number): string {
  return String(seq).padStart(size, 'x')
}

let seq = 0
let start = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), sockets: 0 }

serve({
  async listen () {
    await listen()
    return { port }
  },
  count: () => ({ connections: connections() }),
  /**
   * Broadcasts one new message `way`. Measuring runs until `end`: the write callbacks and
   * stream bookkeeping that run after the call (next ticks, drains) are part of the cost.
   */
  once ({ way, size }: { way: BroadcastWay, size: number }) {
    const clients = wsSockets()
    const data = message(seq++, size)
    start = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), sockets: clients.size }
    broadcastOnce(way, data, clients)
    return null
  },
  end (): BroadcastSample {
    const used = process.cpuUsage(start.cpu)
    const elu = performance.eventLoopUtilization(start.elu)
    return { sockets: start.sockets, cpuUs: used.user + used.system, systemUs: used.system, activeMs: elu.active }
  }
})
