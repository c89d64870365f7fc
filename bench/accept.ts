/**
 * Benchmark 5, accept rate: time for the load processes to open N connections, the
 * plugin (default heartbeat settings) vs plain @fastify/websocket, alternately.
 */
import { openConnections, rotate, startLoads, startServer, stopAll } from './common/fleet.js'
import { fmt, median, medianRatio, table, type BenchResult, type Figure } from './common/report.js'
import type { ServerKind } from './server.js'

export interface AcceptOptions {
  connections: number
  runs: number
}

interface AcceptRun {
  kind: ServerKind
  run: number
  opened: number
  failed: number
  ms: number
  perSecond: number
}

export async function run (opts: AcceptOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const kinds: ServerKind[] = ['plugin', 'plain']
  const runs: AcceptRun[] = []
  for (let r = 0; r < opts.runs; r++) {
    for (const kind of rotate(kinds, r)) {
      const { server, port } = await startServer({ kind, interval: 20_000, timeout: 30_000 })
      const loads = startLoads(opts.connections, 'ws')
      try {
        // Let the load processes finish starting before the clock runs.
        await Promise.all(loads.map((l) => l.call('stats')))
        const { opened, failed, ms } = await openConnections(loads, `ws://127.0.0.1:${port}/ws`, opts.connections)
        runs.push({ kind, run: r, opened, failed, ms, perSecond: (1000 * opened) / ms })
        log(`  accept run ${r + 1}/${opts.runs} ${kind}: ${opened} in ${fmt(ms)} ms = ${fmt((1000 * opened) / ms)} conn/s (${failed} failed)`)
      } finally {
        await stopAll([...loads, server])
      }
    }
  }
  const of = (kind: ServerKind): number[] => runs.filter((x) => x.kind === kind).sort((a, b) => a.run - b.run).map((x) => x.perSecond)
  const ratio = medianRatio(of('plugin'), of('plain'))
  const figures: Figure[] = [
    { figure: `accept rate, ${opts.connections} connections`, value: median(of('plugin')), unit: 'conn/s', baseline: 'plain @fastify/websocket', baselineValue: median(of('plain')), ratio, target: '>= 0.95x', met: ratio >= 0.95 }
  ]
  log('\n' + table(['server', 'conn/s per run', 'median'], kinds.map((k) => [k, of(k).map((x) => fmt(x)).join(', '), fmt(median(of(k)))])))
  return { bench: 'accept', title: `5. Accept rate of ${opts.connections} connections`, params: { ...opts }, figures, runs }
}
