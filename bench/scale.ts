/**
 * Benchmark 9, the scale curve (issue 15): how the cost of idle heartbeats grows with the
 * number of connections. At each size and for each server kind, two measurements on fresh
 * server processes:
 *   CPU   bench/idle.ts `measureIdle`: server CPU per connection-heartbeat (µs) over a short
 *         window after a warm-up;
 *   heap  bench/memory.ts `measureMemory`: heap per connection after gc(), every connection
 *         having carried a little traffic and a few heartbeats. Its load speaks plain `ws`,
 *         so socket.io has no heap point (the chart says so).
 * Writes the chart: docs/scale.svg at full scale (BENCHMARKS.md shows it), else
 * scale-<scale>.svg in the results directory, so that quick and smoke runs never touch docs/.
 * Part of `npm run bench` (`--only=scale`), or alone after `npm run build:bench`:
 * node build/bench/scale.js [--quick | --smoke] [--connections=N] [--kinds=a,b] [--duration=S].
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { rotate } from './common/fleet.js'
import { scaleChartSvg, type ScaleChartPoint } from './common/chart.js'
import { fmt, machine, median, medianRatio, printResult, resultsDir, table, type BenchResult, type Figure } from './common/report.js'
import { presets, type Scale } from './common/scale.js'
import { measureIdle, SERVER_LABEL } from './idle.js'
import { measureMemory } from './memory.js'
import { parseFlags, writeResult } from './run.js'
import type { ServerKind } from './server.js'

export interface ScaleOptions {
  /** Connection counts of the curve, in order. */
  connections: number[]
  /** Server kinds of bench/server.ts (default plugin, timer, sweep, socketio). */
  kinds?: ServerKind[]
  /** Heartbeat interval and timeout, ms. */
  interval: number
  /** CPU measuring window, ms. */
  durationMs: number
  /** Time between the last handshake and the CPU window, ms. */
  warmupMs: number
  runs: number
  /** Preset the options come from: decides where the chart is written. */
  scale: Scale
}

/** One server at one size in one run. Heap fields are null where not measured (socketio). */
export interface ScalePoint {
  connections: number
  kind: ServerKind
  run: number
  opened: number
  cpuPct: number
  usPerHeartbeat: number
  eldP99Ms: number
  eldMaxMs: number
  falseTimeouts: number
  loadavg: number
  heapPerConn: number | null
  rssPerConn: number | null
}

const SOCKETIO_NOTE = 'socket.io 4: no heap point (the heap measurement\'s load speaks plain ws)'

/** docs/scale.svg for the full scale; quick and smoke runs write beside their JSON. */
export function chartPath (scale: Scale): string {
  return scale === 'full' ? join(__dirname, '..', '..', 'docs', 'scale.svg') : join(resultsDir(), `scale-${scale}.svg`)
}

export async function run (opts: ScaleOptions, log: (line: string) => void = console.log): Promise<BenchResult & { runs: ScalePoint[] }> {
  const kinds = opts.kinds ?? ['plugin', 'timer', 'sweep', 'socketio']
  const points: ScalePoint[] = []
  for (const n of opts.connections) {
    for (let r = 0; r < opts.runs; r++) {
      for (const kind of rotate(kinds, r)) {
        const idle = await measureIdle(kind, { connections: n, interval: opts.interval, durationMs: opts.durationMs, warmupMs: opts.warmupMs, runs: opts.runs }, r)
        const mem = kind === 'socketio' ? null : await measureMemory(kind, { connections: n, interval: opts.interval }, r)
        const p: ScalePoint = {
          connections: n,
          kind,
          run: r,
          opened: idle.opened,
          cpuPct: idle.cpuPct,
          usPerHeartbeat: idle.usPerHeartbeat,
          eldP99Ms: idle.eldP99Ms,
          eldMaxMs: idle.eldMaxMs,
          falseTimeouts: idle.falseTimeouts,
          loadavg: idle.loadavg,
          heapPerConn: mem?.heapPerConn ?? null,
          rssPerConn: mem?.rssPerConn ?? null
        }
        points.push(p)
        log(`  scale ${n} conns run ${r + 1}/${opts.runs} ${kind}: ${fmt(p.usPerHeartbeat)} µs/heartbeat (${fmt(p.cpuPct)} % core), heap ${fmt(p.heapPerConn ?? NaN)} B/conn (${p.opened} open)`)
      }
    }
  }

  const of = (kind: ServerKind, n: number, key: 'usPerHeartbeat' | 'cpuPct' | 'heapPerConn' | 'eldP99Ms'): number[] =>
    points.filter((p) => p.kind === kind && p.connections === n).sort((a, b) => a.run - b.run).map((p) => p[key] ?? NaN)
  const med = (kind: ServerKind, n: number, key: 'usPerHeartbeat' | 'cpuPct' | 'heapPerConn' | 'eldP99Ms'): number => median(of(kind, n, key))
  const worst = (kind: ServerKind, n: number): number => Math.max(...points.filter((p) => p.kind === kind && p.connections === n).map((p) => p.falseTimeouts))

  // The plugin against a timer per connection: the floor of a heartbeat per socket in JS.
  const subject: ServerKind = kinds.includes('plugin') ? 'plugin' : kinds[0]
  const baseline: ServerKind | undefined = kinds.includes('timer') && subject !== 'timer' ? 'timer' : undefined
  const figures: Figure[] = []
  for (const n of opts.connections) {
    const vs = (key: 'usPerHeartbeat' | 'heapPerConn'): Partial<Figure> => baseline === undefined
      ? {}
      : { baseline: SERVER_LABEL[baseline], baselineValue: med(baseline, n, key), ratio: medianRatio(of(subject, n, key), of(baseline, n, key)) }
    figures.push({ figure: `server CPU per heartbeat at ${n} conns (${SERVER_LABEL[subject] ?? subject})`, value: med(subject, n, 'usPerHeartbeat'), unit: 'µs', ...vs('usPerHeartbeat') })
    if (subject !== 'socketio') figures.push({ figure: `heap per connection at ${n} conns, after gc() (${SERVER_LABEL[subject] ?? subject})`, value: med(subject, n, 'heapPerConn'), unit: 'B', ...vs('heapPerConn') })
  }

  const rows: string[][] = []
  for (const n of opts.connections) {
    for (const k of kinds) {
      rows.push([
        String(n),
        SERVER_LABEL[k] ?? k,
        fmt(med(k, n, 'cpuPct')) + ' %',
        fmt(med(k, n, 'usPerHeartbeat')) + ' µs',
        baseline === undefined ? '-' : fmt(medianRatio(of(k, n, 'usPerHeartbeat'), of(baseline, n, 'usPerHeartbeat'))) + 'x',
        k === 'socketio' ? '-' : fmt(med(k, n, 'heapPerConn')),
        fmt(med(k, n, 'eldP99Ms')) + ' ms',
        String(worst(k, n))
      ])
    }
  }
  log('\n' + table(['conns', 'server', 'CPU (median)', 'CPU / heartbeat', `vs ${baseline === undefined ? '-' : SERVER_LABEL[baseline]}`, 'heap B/conn', 'loop delay p99', 'false timeouts (worst)'], rows))

  const chartPoints: ScaleChartPoint[] = opts.connections.flatMap((n) => kinds.map((k) => ({
    connections: n,
    server: SERVER_LABEL[k] ?? k,
    usPerHeartbeat: med(k, n, 'usPerHeartbeat'),
    heapPerConn: k === 'socketio' ? null : med(k, n, 'heapPerConn')
  })))
  const notes = [
    `idle connections, heartbeat every ${opts.interval} ms; CPU over ${opts.durationMs / 1000} s after ${opts.warmupMs / 1000} s of warm-up; heap after gc(); ${opts.runs === 1 ? 'one run' : `median of ${opts.runs} runs`} per point`,
    ...(kinds.includes('socketio') ? [SOCKETIO_NOTE] : []),
    ...(opts.scale === 'full' ? [] : [opts.scale === 'smoke' ? 'smoke scale: these figures only check the harness' : 'quick scale: not the issue\'s sizes'])
  ]
  const chart = chartPath(opts.scale)
  const svg = await scaleChartSvg(chartPoints, { title: 'Scale curve: cost of idle heartbeats as connections grow', date: new Date().toISOString(), machine: machine(), notes })
  writeFileSync(chart, svg)
  log(`chart: ${chart}`)

  return {
    bench: 'scale',
    title: `9. Scale curve: ${opts.connections.join(', ')} connections, ${opts.interval} ms interval, ${opts.durationMs / 1000} s CPU windows`,
    params: { ...opts, kinds, chart },
    figures,
    perKind: Object.fromEntries(opts.connections.flatMap((n) => kinds.map((k) => [`${k}-${n}`, { usPerHeartbeat: med(k, n, 'usPerHeartbeat'), cpuPct: med(k, n, 'cpuPct'), heapPerConn: med(k, n, 'heapPerConn'), falseTimeouts: worst(k, n) }]))),
    runs: points
  }
}

if (require.main === module) {
  // Same flags and presets as bench/run.ts (--quick, --smoke, --connections, --kinds, --duration, --runs).
  const flags = parseFlags(process.argv.slice(2))
  run(presets(flags).scale as ScaleOptions).then((result) => {
    printResult(result)
    writeResult(result, flags.scale)
    process.exit(0)
  }, (err) => {
    console.error(err)
    process.exit(1)
  })
}
