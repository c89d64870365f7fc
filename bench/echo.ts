/**
 * Benchmark 6, echo throughput: N connections each sending a 64-byte text message and
 * sending again on every echo (closed loop), on a JSON-mode route and a frame-mode route
 * of the plugin, against the same routes on plain @fastify/websocket, and with the
 * plugin's `metrics` on against off.
 */
import { openConnections, rotate, startLoads, startServer, stopAll } from './common/fleet.js'
import { fmt, median, medianRatio, table, type BenchResult, type Figure } from './common/report.js'
import type { ServerKind } from './server.js'

export interface EchoOptions {
  connections: number
  size: number
  durationMs: number
  runs: number
  kinds?: ServerKind[]
}

interface EchoRun {
  kind: ServerKind
  route: string
  run: number
  perSecond: number
}

const ROUTES = ['/json', '/ws']

export async function run (opts: EchoOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const kinds: ServerKind[] = opts.kinds ?? ['plugin', 'metrics', 'plain']
  const runs: EchoRun[] = []
  for (let r = 0; r < opts.runs; r++) {
    for (const route of rotate(ROUTES, r)) {
      for (const kind of rotate(kinds, r)) {
        // Default heartbeat settings: a busy connection is not pinged (the skip rule).
        const { server, port } = await startServer({ kind, interval: 20_000, timeout: 30_000 })
        const loads = startLoads(opts.connections, 'ws')
        try {
          await openConnections(loads, `ws://127.0.0.1:${port}${route}`, opts.connections)
          const res = await Promise.all(loads.map((l) => l.call<{ received: number, ms: number }>('echo', { ms: opts.durationMs, size: opts.size }, opts.durationMs + 60_000)))
          const perSecond = res.reduce((s, x) => s + (1000 * x.received) / x.ms, 0)
          runs.push({ kind, route, run: r, perSecond })
          log(`  echo run ${r + 1}/${opts.runs} ${kind} ${route}: ${fmt(perSecond)} msg/s`)
        } finally {
          await stopAll([...loads, server])
        }
      }
    }
  }
  const of = (kind: ServerKind, route: string): number[] => runs.filter((x) => x.kind === kind && x.route === route).sort((a, b) => a.run - b.run).map((x) => x.perSecond)
  const name = (route: string): string => `echo ${route === '/json' ? 'JSON-mode' : 'frame-mode'} route, ${opts.connections} conns, ${opts.size} B`
  const figures: Figure[] = []
  for (const route of ROUTES) {
    if (kinds.includes('plugin') && kinds.includes('plain')) {
      const ratio = medianRatio(of('plugin', route), of('plain', route))
      figures.push({ figure: name(route), value: median(of('plugin', route)), unit: 'msg/s', baseline: 'plain @fastify/websocket', baselineValue: median(of('plain', route)), ratio, target: '>= 0.95x', met: ratio >= 0.95 })
    }
    if (kinds.includes('plugin') && kinds.includes('metrics')) {
      const ratio = medianRatio(of('metrics', route), of('plugin', route))
      figures.push({ figure: name(route) + ', metrics on vs off', value: median(of('metrics', route)), unit: 'msg/s', baseline: 'metrics off', baselineValue: median(of('plugin', route)), ratio, target: '>= 0.97x', met: ratio >= 0.97 })
    }
  }
  const cell = (kind: ServerKind, route: string): string => kinds.includes(kind) ? fmt(median(of(kind, route))) : '-'
  log('\n' + table(['route', ...kinds.map((k) => `${k} msg/s`)], ROUTES.map((route) => [route, ...kinds.map((k) => cell(k, route))])))
  return { bench: 'echo', title: `6. Echo throughput, ${opts.connections} connections, ${opts.size}-byte messages, ${opts.durationMs / 1000} s`, params: { ...opts }, figures, runs }
}
