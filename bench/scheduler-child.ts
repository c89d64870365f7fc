/**
 * Benchmark 2's process: the plugin's `Heartbeats` and `Scheduler` from lib/, driven with
 * stub connections whose socket counts pings and answers each one after the tick. Every
 * stub is a healthy peer (its lastSeen is always after the ping), so each heartbeat costs a
 * beat and a verdict, as a live connection's does. Also runs the ws README sweep over the
 * same kind of stubs, as the same-run baseline.
 */
import { performance } from 'node:perf_hooks'
import { Heartbeats } from '../lib/heartbeat.js'
import { answerOldest } from '../lib/answers.js'
import { ConnectionState, type ConnectionOwner, type TrackedRoute } from '../lib/connection.js'
import { clock, realClock, type Clock } from '../lib/clock.js'
import { DEFAULT_JSON, type HeartbeatConfig } from '../lib/options.js'
import { config, serve } from './common/proc.js'

export interface SchedulerConfig {
  n: number
  interval: number
  timeout: number
  durationMs: number
}

export interface SchedulerRun {
  n: number
  /** ns per `Heartbeats.start` (connection setup). */
  startNs: number
  pings: number
  ticks: number
  totalTickMs: number
  /** CPU time (process.cpuUsage) inside the timer callback per ping: immune to other processes. */
  nsPerHeartbeat: number
  /** Wall time inside the timer callback per ping: includes time the OS gave to other processes. */
  wallNsPerHeartbeat: number
  maxTickMs: number
  maxTickCpuMs: number
  p99TickMs: number
  /** Distinct due times holding heartbeats (slots used of the interval's grid). */
  slots: number
  deaths: number
  heapMB: number
}

const cfg = config<SchedulerConfig>()
let pings = 0
// Stubs pinged during the current tick: they answer right after it (outside the measured
// callback, as a real pong is read outside it), so each stub has one ping awaiting an
// answer, as a healthy peer has, not a full backlog of unanswered ones.
let pinged: ConnectionState[] = []
function stubSocket (): { conn: ConnectionState | null, readyState: number, _socket: object, ping: () => void, terminate: () => void } {
  return {
    conn: null,
    readyState: 1,
    // Byte counters as on a TCP socket (a socket without them is taken for an injected one).
    _socket: { bytesRead: 0, bytesWritten: 0, writableLength: 0 },
    ping () {
      pings++
      if (this.conn !== null) pinged.push(this.conn)
    },
    terminate (): void {}
  }
}
const owner: ConnectionOwner = { idPrefix: 'c', probe: () => Promise.resolve(0), closing: () => {}, closed: () => {} }

function runPlugin (): Promise<SchedulerRun> {
  const heartbeatConfig: HeartbeatConfig = { mode: 'frame', interval: cfg.interval, timeout: cfg.timeout, closeTimeout: 1000, json: DEFAULT_JSON }
  let deaths = 0
  let measuring = false
  let totalTickMs = 0
  let totalCpuUs = 0
  let maxTickMs = 0
  let maxTickCpuMs = 0
  const tickMs: number[] = []
  // Wrap the one timer callback: the whole cost of a round (beats, verdicts, re-arming).
  const timed: Clock = {
    now: realClock.now,
    clearTimeout: realClock.clearTimeout,
    setTimeout: (tick, ms) => realClock.setTimeout(() => {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      tick()
      const took = performance.now() - t0
      const cpu = process.cpuUsage(c0)
      const at = performance.now()
      for (const conn of pinged) answerOldest(conn, at)
      pinged = []
      if (!measuring) return
      const cpuUs = cpu.user + cpu.system
      totalCpuUs += cpuUs
      totalTickMs += took
      if (took > maxTickMs) maxTickMs = took
      if (cpuUs / 1000 > maxTickCpuMs) maxTickCpuMs = cpuUs / 1000
      tickMs.push(took)
    }, ms)
  }
  const hb = new Heartbeats({ dead: () => { deaths++ }, failed: () => {}, closing: () => {}, population: () => cfg.n }, timed)

  const conns: ConnectionState[] = []
  const route: TrackedRoute = { url: '/stub', config: heartbeatConfig, observer: undefined, owner }
  const now = clock()
  const t0 = performance.now()
  for (let i = 0; i < cfg.n; i++) {
    const socket = stubSocket()
    const conn = new ConnectionState(route, i, socket as never, now)
    socket.conn = conn
    // Always seen after the last ping, so no verdict finds a suspect (a Smi, as real times are).
    conn.seen = 2 ** 30
    conns.push(conn)
    hb.start(conn, now)
  }
  const startNs = ((performance.now() - t0) * 1e6) / cfg.n
  const dues = new Set<number>()
  for (const conn of conns) dues.add(conn.nextDue)

  return new Promise((resolve) => {
    // The first heartbeats leave between interval/2 and interval after start: measure
    // from then on, a whole interval (every connection pinged once).
    setTimeout(() => {
      measuring = true
      pings = 0
      setTimeout(() => {
        measuring = false
        hb.stop()
        tickMs.sort((a, b) => a - b)
        const slots = new Set<number>()
        for (const conn of conns) slots.add(conn.nextDue)
        resolve({
          n: cfg.n,
          startNs,
          pings,
          ticks: tickMs.length,
          totalTickMs,
          nsPerHeartbeat: (totalCpuUs * 1e3) / pings,
          wallNsPerHeartbeat: (totalTickMs * 1e6) / pings,
          maxTickMs,
          maxTickCpuMs,
          p99TickMs: tickMs[Math.floor(tickMs.length * 0.99)] ?? 0,
          slots: slots.size,
          deaths,
          heapMB: process.memoryUsage().heapUsed / 2 ** 20
        })
      }, cfg.durationMs)
    }, cfg.interval * 1.2)
  })
}

/** The ws README sweep over the same number of stubs, in CPU time: one pass is one tick. */
function runSweep (): { nsPerHeartbeat: number, maxTickMs: number } {
  type Stub = { isAlive: boolean, ping: () => void, terminate: () => void }
  const clients = new Set<Stub>()
  for (let i = 0; i < cfg.n; i++) clients.add({ isAlive: true, ping () { pings++; this.isAlive = true }, terminate () {} })
  let maxTickMs = 0
  let total = 0
  pings = 0
  for (let round = 0; round < 5; round++) {
    const c0 = process.cpuUsage()
    for (const ws of clients) {
      if (ws.isAlive === false) { ws.terminate(); continue }
      ws.isAlive = false
      ws.ping()
    }
    const cpu = process.cpuUsage(c0)
    const ms = (cpu.user + cpu.system) / 1000
    if (round > 0) {
      total += ms
      if (ms > maxTickMs) maxTickMs = ms
    } else {
      pings = 0
    }
  }
  return { nsPerHeartbeat: (total * 1e6) / pings, maxTickMs }
}

serve({
  plugin: () => runPlugin(),
  sweep: () => runSweep()
})
