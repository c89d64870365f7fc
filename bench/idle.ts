/**
 * Benchmark 1, idle heartbeat cost: N healthy idle connections, heartbeats every
 * `interval`, measured for `durationMs` after a warm-up, in the server process:
 * CPU (process.cpuUsage), event-loop delay (p99, max) and false timeouts.
 */
import { join } from 'node:path'
import { sleep } from './common/proc.js'
import { loadStats, openConnections, rotate, startLoads, startServer, stopAll } from './common/fleet.js'
import { fmt, median, medianRatio, profilesDir, table, type BenchResult, type Figure } from './common/report.js'
import type { Measurement, ServerKind } from './server.js'

export interface IdleOptions {
  connections: number
  interval: number
  durationMs: number
  warmupMs: number
  runs: number
  kinds?: ServerKind[]
  /** Record a CPU profile of each server's measuring window in the first run. */
  profile?: boolean
}

export interface IdleRun extends Measurement {
  kind: ServerKind
  run: number
  opened: number
  clientDrops: number
  falseTimeouts: number
  /** Server CPU per connection-heartbeat, in µs. */
  usPerHeartbeat: number
}

/** Legend of each server kind in tables and charts. */
export const SERVER_LABEL: Record<string, string> = {
  plugin: 'fastify-ws-heartbeat',
  metrics: 'fastify-ws-heartbeat, metrics on',
  plain: '@fastify/websocket, no heartbeat',
  sweep: '@fastify/websocket + ws README sweep',
  timer: 'timer per connection',
  socketio: 'socket.io 4'
}

export async function measureIdle (kind: ServerKind, opts: IdleOptions, run: number): Promise<IdleRun> {
  const profile = opts.profile === true && run === 0 ? join(profilesDir(), `idle-${kind}-${opts.connections}.cpuprofile`) : undefined
  const { server, port } = await startServer({ kind, interval: opts.interval, timeout: opts.interval, profile })
  const loads = startLoads(opts.connections, kind === 'socketio' ? 'socketio' : 'ws')
  try {
    const url = kind === 'socketio' ? `http://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`
    const { opened } = await openConnections(loads, url, opts.connections)
    await sleep(opts.warmupMs)
    const before = await loadStats(loads)
    await server.call('measureStart')
    await sleep(opts.durationMs)
    const m = await server.call<Measurement>('measureStop')
    const after = await loadStats(loads)
    const clientDrops = after.closed - before.closed
    const heartbeats = opened * (m.wallMs / opts.interval)
    return {
      kind,
      run,
      opened,
      ...m,
      clientDrops,
      falseTimeouts: Math.max(m.deaths, clientDrops),
      usPerHeartbeat: (1000 * m.cpuMs) / heartbeats
    }
  } finally {
    await stopAll([...loads, server])
  }
}

export async function run (opts: IdleOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const kinds = opts.kinds ?? ['plugin', 'metrics', 'sweep', 'timer', 'socketio']
  const runs: IdleRun[] = []
  for (let run = 0; run < opts.runs; run++) {
    for (const kind of rotate(kinds, run)) {
      const r = await measureIdle(kind, opts, run)
      runs.push(r)
      log(`  idle run ${run + 1}/${opts.runs} ${kind}: cpu ${fmt(r.cpuPct)}% p99 ${fmt(r.eldP99Ms)} ms max ${fmt(r.eldMaxMs)} ms false timeouts ${r.falseTimeouts} (${r.opened} open)`)
    }
  }
  const of = (kind: ServerKind, key: keyof IdleRun): number[] =>
    runs.filter((r) => r.kind === kind).sort((a, b) => a.run - b.run).map((r) => r[key] as number)
  const med = (kind: ServerKind, key: keyof IdleRun): number => median(of(kind, key))

  const figures: Figure[] = []
  const has = (k: ServerKind): boolean => kinds.includes(k)
  if (has('plugin') && has('sweep')) {
    const ratio = medianRatio(of('plugin', 'cpuMs'), of('sweep', 'cpuMs'))
    figures.push({ figure: 'idle CPU vs README sweep', value: med('plugin', 'cpuPct'), unit: '% core', baseline: 'README sweep', baselineValue: med('sweep', 'cpuPct'), ratio, target: '<= 1.1x', met: ratio <= 1.1 })
  }
  if (has('plugin') && has('socketio')) {
    const ratio = medianRatio(of('plugin', 'cpuMs'), of('socketio', 'cpuMs'))
    figures.push({ figure: 'idle CPU vs socket.io', value: med('plugin', 'cpuPct'), unit: '% core', baseline: 'socket.io 4', baselineValue: med('socketio', 'cpuPct'), ratio, target: '<= 0.5x', met: ratio <= 0.5 })
  }
  if (has('plugin') && has('metrics')) {
    const ratio = medianRatio(of('metrics', 'cpuMs'), of('plugin', 'cpuMs'))
    figures.push({ figure: 'idle CPU, metrics on vs off', value: med('metrics', 'cpuPct'), unit: '% core', baseline: 'metrics off', baselineValue: med('plugin', 'cpuPct'), ratio, target: '<= 1.02x', met: ratio <= 1.02 })
  }
  if (has('plugin') && has('timer')) {
    const ratio = medianRatio(of('plugin', 'cpuMs'), of('timer', 'cpuMs'))
    figures.push({ figure: 'idle CPU vs timer per connection', value: med('plugin', 'cpuPct'), unit: '% core', baseline: 'timer per connection', baselineValue: med('timer', 'cpuPct'), ratio })
  }
  if (has('plugin')) {
    const sweep = has('sweep')
    const p99 = med('plugin', 'eldP99Ms')
    const max = med('plugin', 'eldMaxMs')
    figures.push({ figure: 'idle event-loop delay p99', value: p99, unit: 'ms', ...(sweep ? { baseline: 'README sweep', baselineValue: med('sweep', 'eldP99Ms'), ratio: medianRatio(of('plugin', 'eldP99Ms'), of('sweep', 'eldP99Ms')) } : {}), target: '<= 10 ms', met: p99 <= 10 })
    figures.push({ figure: 'idle event-loop delay max', value: max, unit: 'ms', ...(sweep ? { baseline: 'README sweep', baselineValue: med('sweep', 'eldMaxMs'), ratio: medianRatio(of('plugin', 'eldMaxMs'), of('sweep', 'eldMaxMs')) } : {}), target: '<= 50 ms', met: max <= 50 })
    const falseTimeouts = Math.max(...of('plugin', 'falseTimeouts'))
    figures.push({ figure: 'idle false timeouts (worst run)', value: falseTimeouts, unit: 'conns', ...(sweep ? { baseline: 'README sweep', baselineValue: Math.max(...of('sweep', 'falseTimeouts')) } : {}), target: '0', met: falseTimeouts === 0 })
    figures.push({ figure: 'idle server CPU per heartbeat', value: med('plugin', 'usPerHeartbeat'), unit: 'µs', ...(sweep ? { baseline: 'README sweep', baselineValue: med('sweep', 'usPerHeartbeat'), ratio: medianRatio(of('plugin', 'usPerHeartbeat'), of('sweep', 'usPerHeartbeat')) } : {}) })
  }

  const perKind = kinds.map((k) => [
    SERVER_LABEL[k] ?? k,
    fmt(med(k, 'cpuPct')) + ' %',
    fmt(med(k, 'usPerHeartbeat')) + ' µs',
    fmt(med(k, 'eldP99Ms')) + ' ms',
    fmt(med(k, 'eldMaxMs')) + ' ms',
    String(Math.max(...of(k, 'falseTimeouts')))
  ])
  log('\n' + table(['server', 'CPU (median)', 'CPU / heartbeat', 'loop delay p99', 'loop delay max', 'false timeouts (worst)'], perKind))

  return {
    bench: 'idle',
    title: `1. Idle heartbeat cost: ${opts.connections} connections, ${opts.interval} ms interval, ${opts.durationMs / 1000} s`,
    params: { ...opts, kinds },
    figures,
    perKind: Object.fromEntries(kinds.map((k) => [k, { cpuPct: med(k, 'cpuPct'), usPerHeartbeat: med(k, 'usPerHeartbeat'), eldP99Ms: med(k, 'eldP99Ms'), eldMaxMs: med(k, 'eldMaxMs'), falseTimeouts: Math.max(...of(k, 'falseTimeouts')) }])),
    runs
  }
}
