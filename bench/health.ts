/**
 * Benchmark 7, /health/ws requests per second (autocannon in its own process) with 0 and
 * N open websocket connections, against a bare Fastify route returning constant JSON in
 * the same server, measured alternately in each run.
 */
import { Child } from './common/proc.js'
import { openConnections, rotate, startLoads, startServer, stopAll } from './common/fleet.js'
import { fmt, median, medianRatio, table, type BenchResult, type Figure } from './common/report.js'

export interface HealthOptions {
  connections: number[]
  durationS: number
  autocannonConnections: number
  runs: number
}

interface HealthRun {
  open: number
  route: string
  run: number
  rps: number
  latencyP99: number
  non2xx: number
  errors: number
}

const ROUTES = ['/health/ws', '/bare']
// The plugin's defaults: the heartbeat settings such a server would run.
const INTERVAL = 20_000
const TIMEOUT = 30_000

export async function run (opts: HealthOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const runs: HealthRun[] = []
  const { server, port } = await startServer({ kind: 'plugin', interval: INTERVAL, timeout: TIMEOUT })
  const cannon = new Child('cannon', {})
  const loads = startLoads(Math.max(...opts.connections), 'ws')
  let open = 0
  try {
    for (const n of [...opts.connections].sort((a, b) => a - b)) {
      if (n > open) {
        await openConnections(loads, `ws://127.0.0.1:${port}/ws`, n - open)
        open = n
      }
      for (let r = 0; r < opts.runs; r++) {
        for (const route of rotate(ROUTES, r)) {
          const res = await cannon.call<Omit<HealthRun, 'open' | 'route' | 'run'>>('run', { url: `http://127.0.0.1:${port}${route}`, connections: opts.autocannonConnections, duration: opts.durationS }, 120_000)
          runs.push({ open: n, route, run: r, ...res })
          log(`  health run ${r + 1}/${opts.runs} ${n} ws open, ${route}: ${fmt(res.rps)} req/s (p99 ${res.latencyP99} ms, non-2xx ${res.non2xx}, errors ${res.errors})`)
        }
      }
    }
  } finally {
    await stopAll([...loads, cannon, server])
  }
  const of = (n: number, route: string): number[] => runs.filter((x) => x.open === n && x.route === route).sort((a, b) => a.run - b.run).map((x) => x.rps)
  const figures: Figure[] = []
  const rows: string[][] = []
  for (const n of opts.connections) {
    const ratio = medianRatio(of(n, '/health/ws'), of(n, '/bare'))
    figures.push({ figure: `/health/ws rps, ${n} ws open`, value: median(of(n, '/health/ws')), unit: 'req/s', baseline: 'bare route, constant JSON', baselineValue: median(of(n, '/bare')), ratio, target: '>= 0.9x', met: ratio >= 0.9 })
    rows.push([String(n), fmt(median(of(n, '/health/ws'))), fmt(median(of(n, '/bare'))), fmt(ratio) + 'x'])
  }
  const lo = Math.min(...opts.connections)
  const hi = Math.max(...opts.connections)
  if (lo !== hi) {
    const drop = medianRatio(of(hi, '/health/ws'), of(lo, '/health/ws'))
    const bareDrop = medianRatio(of(hi, '/bare'), of(lo, '/bare'))
    figures.push({ figure: `/health/ws rps at ${hi} vs ${lo} ws open`, value: drop, unit: 'x', baseline: 'bare route, same comparison', baselineValue: bareDrop, ratio: drop / bareDrop, target: 'no drop (>= 0.95x the bare route\'s)', met: drop >= 0.95 * bareDrop })
  }
  log('\n' + table(['ws open', '/health/ws req/s', 'bare req/s', 'ratio'], rows))
  return {
    bench: 'health',
    title: `7. /health/ws requests per second vs a bare constant-JSON route (autocannon, ${opts.autocannonConnections} connections, ${opts.durationS} s)`,
    params: { ...opts, interval: INTERVAL, timeout: TIMEOUT },
    figures,
    runs
  }
}
