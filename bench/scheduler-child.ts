/**
 * Benchmark 2's process: the plugin's `Heartbeats` and `Scheduler` from lib/, driven with
 * stub connections whose socket only counts pings. Every stub is a healthy peer (its
 * lastSeen is always after the ping), so each heartbeat costs a beat and a verdict, as a
 * live connection's does. Also runs the ws README sweep over the same kind of stubs, as
 * the same-run baseline.
 */
import { performance } from 'node:perf_hooks'
import { Heartbeats } from '../lib/heartbeat.js'
import { WsConnection } from '../lib/connection.js'
import { clock } from '../lib/clock.js'
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
const socket = {
  readyState: 1,
  ping (): void { pings++ },
  terminate (): void {}
}

function runPlugin (): Promise<SchedulerRun> {
  const heartbeatConfig: HeartbeatConfig = { mode: 'frame', interval: cfg.interval, timeout: cfg.timeout, closeTimeout: 1000, json: DEFAULT_JSON }
  let deaths = 0
  const hb = new Heartbeats({ dead: () => { deaths++ }, error: () => {}, population: () => cfg.n })
  // Wrap the one timer callback: the whole cost of a round (beats, verdicts, re-arming).
  const scheduler = hb.scheduler as unknown as { tick: () => void }
  const tick = scheduler.tick
  let measuring = false
  let totalTickMs = 0
  let totalCpuUs = 0
  let maxTickMs = 0
  let maxTickCpuMs = 0
  const tickMs: number[] = []
  scheduler.tick = () => {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    tick()
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    if (!measuring) return
    const cpuUs = cpu.user + cpu.system
    totalCpuUs += cpuUs
    totalTickMs += ms
    if (ms > maxTickMs) maxTickMs = ms
    if (cpuUs / 1000 > maxTickCpuMs) maxTickCpuMs = cpuUs / 1000
    tickMs.push(ms)
  }

  const conns: WsConnection[] = []
  const now = clock()
  const t0 = performance.now()
  for (let i = 0; i < cfg.n; i++) {
    const conn = new WsConnection('c', i, socket as never, '/stub', heartbeatConfig, now)
    // Always seen after the last ping, so no verdict finds a suspect (a Smi, as real times are).
    conn._seen = 2 ** 30
    conns.push(conn)
    hb.start(conn, now)
  }
  const startNs = ((performance.now() - t0) * 1e6) / cfg.n
  const dues = new Set<number>()
  for (const conn of conns) dues.add(conn._nextDue)

  return new Promise((resolve) => {
    // The first heartbeats leave between interval/2 and interval after start: measure
    // from then on, a whole interval (every connection pinged once).
    setTimeout(() => {
      measuring = true
      pings = 0
      setTimeout(() => {
        measuring = false
        hb.scheduler.stop()
        tickMs.sort((a, b) => a - b)
        const slots = new Set<number>()
        for (const conn of conns) slots.add(conn._nextDue)
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
