/**
 * The server process of every network benchmark. One kind per process:
 *   plugin   Fastify + fastify-ws-heartbeat (frame routes, and a JSON-mode route)
 *   metrics  plugin with `metrics` on (its own prom-client registry, scraped every 5 s)
 *   plain    Fastify + @fastify/websocket, no heartbeat at all
 *   sweep    plain + the `ws` README sweep (setInterval over wss.clients, isAlive, terminate/ping)
 *   timer    plain + a setInterval per connection doing the README check for its socket
 *   socketio socket.io 4 with pingInterval = interval
 * Routes (Fastify kinds): /ws echo (frame mode), /json echo (JSON mode for the plugin),
 * /bare constant JSON, and /health/ws for the plugin.
 */
import { createServer } from 'node:http'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import type { WebSocket, WebSocketServer } from 'ws'
import { Server as SocketIoServer } from 'socket.io'
import { Registry } from 'prom-client'
import heartbeat from '../lib/index.js'
import { config, serve } from './common/proc.js'

export type ServerKind = 'plugin' | 'metrics' | 'plain' | 'sweep' | 'timer' | 'socketio'

export interface ServerConfig {
  kind: ServerKind
  interval: number
  timeout: number
  /** Write a CPU profile of the measuring window (measureStart to measureStop) here. */
  profile?: string
}

export interface Measurement {
  wallMs: number
  cpuMs: number
  /** CPU time as a share of one core over the window, in %. */
  cpuPct: number
  eldP50Ms: number
  eldP99Ms: number
  eldMaxMs: number
  /** Samples in the loop-delay histogram: few samples mean long stalls. */
  eldCount: number
  deaths: number
  connections: number
  /** 1-minute load average of the machine at the end of the window (other work on it). */
  loadavg: number
}

// Constant body of the bare route, shaped like the health body so both serialize alike.
const BARE_BODY = { status: 'ok', connections: 0, routes: {} }

type AliveSocket = WebSocket & { isAlive?: boolean, timer?: ReturnType<typeof setInterval> }

const cfg = config<ServerConfig>()
const eld = monitorEventLoopDelay({ resolution: 1 })
eld.enable()

let deaths = 0
// Epoch ms of each heartbeat death (plugin), for bench/hold.ts.
const deathTimes: number[] = []
let stallNext = 0
let app: FastifyInstance | null = null
let io: SocketIoServer | null = null
let port = 0

function echo (socket: WebSocket): void {
  socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }))
}

// The `ws` README's heartbeat, shared by the sweep and the timer-per-connection baselines
// so that they differ only in how the checks are driven.
function markAlive (socket: AliveSocket): void {
  socket.isAlive = true
  socket.on('pong', function (this: AliveSocket) { this.isAlive = true })
}

function readmeCheck (socket: AliveSocket): void {
  if (socket.isAlive === false) {
    deaths++
    socket.terminate()
    return
  }
  socket.isAlive = false
  socket.ping()
}

function block (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* the server's event loop is stuck */ }
}

function wss (): WebSocketServer {
  return (app as FastifyInstance).websocketServer
}

async function startFastify (): Promise<void> {
  const fastify = Fastify({ logger: false })
  app = fastify
  if (cfg.kind === 'plugin' || cfg.kind === 'metrics') {
    const registry = cfg.kind === 'metrics' ? new Registry() : null
    await fastify.register(heartbeat, { interval: cfg.interval, timeout: cfg.timeout, metrics: registry === null ? false : { registry } })
    // A Prometheus scrape, so that the cost of a scrape is in the measurement too.
    if (registry !== null) setInterval(() => { registry.metrics().catch(() => {}) }, 5_000).unref()
    fastify.wsConnections.on('timeout', () => { deaths++; deathTimes.push(Date.now()) })
    fastify.get('/ws', { websocket: true }, echo)
    fastify.get('/json', { websocket: true, heartbeat: { mode: 'json' } }, echo)
  } else {
    await fastify.register(websocket)
    fastify.get('/ws', { websocket: true }, echo)
    fastify.get('/json', { websocket: true }, echo)
  }
  fastify.get('/bare', (_request, reply) => { reply.send(BARE_BODY) })

  if (cfg.kind === 'sweep') {
    // The ws README, verbatim in substance.
    fastify.websocketServer.on('connection', markAlive)
    setInterval(() => {
      for (const socket of fastify.websocketServer.clients as Set<AliveSocket>) readmeCheck(socket)
      if (stallNext > 0) {
        const ms = stallNext
        stallNext = 0
        setImmediate(() => block(ms))
      }
    }, cfg.interval)
  } else if (cfg.kind === 'timer') {
    fastify.websocketServer.on('connection', (socket: AliveSocket) => {
      markAlive(socket)
      socket.timer = setInterval(() => readmeCheck(socket), cfg.interval)
      socket.on('close', () => clearInterval(socket.timer))
    })
  }
  await fastify.listen({ host: '127.0.0.1', port: 0, backlog: 4096 })
  port = (fastify.server.address() as AddressInfo).port
}

async function startSocketIo (): Promise<void> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8')
    res.end(JSON.stringify(BARE_BODY))
  })
  io = new SocketIoServer(server, {
    pingInterval: cfg.interval,
    pingTimeout: cfg.timeout,
    transports: ['websocket'],
    serveClient: false
  })
  io.on('connection', (socket) => {
    socket.on('disconnect', (reason) => { if (reason === 'ping timeout') deaths++ })
  })
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve))
  port = (server.address() as AddressInfo).port
}

function connections (): number {
  if (io !== null) return io.engine.clientsCount
  if (cfg.kind === 'plugin' || cfg.kind === 'metrics') return (app as FastifyInstance).wsConnections.size
  return wss().clients.size
}

let session: Session | null = null

function post (method: string, params?: object): Promise<any> {
  return new Promise((resolve, reject) => (session as Session).post(method, params, (err, result) => err ? reject(err) : resolve(result)))
}

let cpuStart = process.cpuUsage()
let wallStart = performance.now()

serve({
  async listen () {
    if (cfg.kind === 'socketio') await startSocketIo()
    else await startFastify()
    return { port }
  },
  count: () => ({ connections: connections(), deaths }),
  deathTimes: () => deathTimes.splice(0),
  async measureStart () {
    if (cfg.profile !== undefined) {
      session = new Session()
      session.connect()
      await post('Profiler.enable')
      await post('Profiler.setSamplingInterval', { interval: 500 })
      await post('Profiler.start')
    }
    cpuStart = process.cpuUsage()
    wallStart = performance.now()
    eld.reset()
    deaths = 0
    return null
  },
  async measureStop (): Promise<Measurement> {
    const cpu = process.cpuUsage(cpuStart)
    const wallMs = performance.now() - wallStart
    const cpuMs = (cpu.user + cpu.system) / 1000
    const m: Measurement = {
      wallMs,
      cpuMs,
      cpuPct: (100 * cpuMs) / wallMs,
      eldP50Ms: eld.percentile(50) / 1e6,
      eldP99Ms: eld.percentile(99) / 1e6,
      eldMaxMs: eld.max / 1e6,
      eldCount: eld.count,
      deaths,
      connections: connections(),
      loadavg: loadavg()[0]
    }
    if (session !== null && cfg.profile !== undefined) {
      const { profile } = await post('Profiler.stop')
      writeFileSync(cfg.profile, JSON.stringify(profile))
      session.disconnect()
      session = null
    }
    return m
  },
  /** Blocks the loop for `ms` right after the next heartbeat round leaves. */
  stall ({ ms }: { ms: number }) {
    deaths = 0
    if (cfg.kind === 'sweep') {
      stallNext = ms
      return null
    }
    if (cfg.kind !== 'plugin') throw new Error(`stall is not implemented for ${cfg.kind}`)
    // Every slot of the interval is "right after a round" for the plugin: block right
    // after the next heartbeat leaves, as the README sweep case does after its sweep.
    const conn = (app as FastifyInstance).wsConnections[Symbol.iterator]().next().value
    if (conn === undefined) throw new Error('no connection')
    const socket = conn.socket
    const ping = socket.ping
    socket.ping = function (...args: Parameters<typeof ping>) {
      ping.apply(this, args)
      socket.ping = ping
      setImmediate(() => block(ms))
    }
    return null
  },
  mem () {
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc === undefined) throw new Error('run with --expose-gc')
    gc()
    gc()
    const m = process.memoryUsage()
    return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers, connections: connections() }
  }
})
