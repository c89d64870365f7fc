/**
 * Benchmark 3, loop stall: healthy connections (their peers in other processes keep
 * answering), then the server's loop is blocked for 1.2x the interval right after a
 * heartbeat round. Counts the connections declared dead: the plugin vs the README sweep.
 */
import { sleep } from './common/proc.js'
import { loadStats, openConnections, rotate, startLoads, startServer, stopAll } from './common/fleet.js'
import { fmt, median, table, type BenchResult, type Figure } from './common/report.js'
import type { ServerKind } from './server.js'

export interface StallOptions {
  connections: number
  interval: number
  runs: number
}

interface StallRun {
  kind: ServerKind
  run: number
  opened: number
  stallMs: number
  deaths: number
  clientDrops: number
  falseDeaths: number
  pct: number
}

async function measure (kind: ServerKind, opts: StallOptions, run: number): Promise<StallRun> {
  const { server, port } = await startServer({ kind, interval: opts.interval, timeout: opts.interval })
  const loads = startLoads(opts.connections, 'ws')
  try {
    const { opened } = await openConnections(loads, `ws://127.0.0.1:${port}/ws`, opts.connections)
    await sleep(2.5 * opts.interval)
    const before = await loadStats(loads)
    const stallMs = Math.round(1.2 * opts.interval)
    await server.call('stall', { ms: stallMs })
    // Next round (<= 1 interval), the stall, then every verdict that the stall delayed.
    await sleep(opts.interval + stallMs + 3 * opts.interval)
    const { deaths } = await server.call<{ deaths: number }>('count', undefined, 60_000)
    const after = await loadStats(loads)
    const clientDrops = after.closed - before.closed
    const falseDeaths = Math.max(deaths, clientDrops)
    return { kind, run, opened, stallMs, deaths, clientDrops, falseDeaths, pct: (100 * falseDeaths) / opened }
  } finally {
    await stopAll([...loads, server])
  }
}

export async function run (opts: StallOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const kinds: ServerKind[] = ['plugin', 'sweep']
  const runs: StallRun[] = []
  for (let r = 0; r < opts.runs; r++) {
    for (const kind of rotate(kinds, r)) {
      const m = await measure(kind, opts, r)
      runs.push(m)
      log(`  stall run ${r + 1}/${opts.runs} ${kind}: ${m.falseDeaths} of ${m.opened} declared dead (${fmt(m.pct)} %) after a ${m.stallMs} ms stall`)
    }
  }
  const of = (kind: ServerKind): StallRun[] => runs.filter((x) => x.kind === kind)
  const worst = Math.max(...of('plugin').map((x) => x.falseDeaths))
  const sweepPct = median(of('sweep').map((x) => x.pct))
  const figures: Figure[] = [
    { figure: `false deaths after a ${Math.round(1.2 * opts.interval)} ms stall (worst run)`, value: worst, unit: `of ${opts.connections}`, baseline: 'README sweep (median)', baselineValue: median(of('sweep').map((x) => x.falseDeaths)), target: '0 (README sweep: 25-70 %)', met: worst === 0 },
    { figure: 'false deaths after the stall, share', value: median(of('plugin').map((x) => x.pct)), unit: '%', baseline: 'README sweep', baselineValue: sweepPct }
  ]
  log('\n' + table(['server', 'false deaths per run', 'median share'], kinds.map((k) => [k, of(k).map((x) => x.falseDeaths).join(', '), fmt(median(of(k).map((x) => x.pct))) + ' %'])))
  return {
    bench: 'stall',
    title: `3. Loop stall of 1.2x the interval right after a round, ${opts.connections} healthy connections, ${opts.interval} ms interval and timeout`,
    params: { ...opts },
    figures,
    perKind: Object.fromEntries(kinds.map((k) => [k, { falseDeathsMedian: median(of(k).map((x) => x.falseDeaths)), pct: median(of(k).map((x) => x.pct)) }])),
    runs
  }
}
