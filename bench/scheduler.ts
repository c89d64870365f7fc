/**
 * Benchmark 2, the scheduler alone: `Heartbeats` + `Scheduler` from lib/ with stub
 * connections (no sockets, no I/O) at 50 000 and 1 000 000 connections. Overhead per
 * connection-heartbeat = total time inside the timer callback / pings sent, in CPU time
 * (process.cpuUsage around each tick) so that other processes on a shared machine do not
 * count; wall time is reported beside it. Max tick is the median over runs of each run's
 * longest tick.
 */
import { Child } from './common/proc.js'
import { fmt, median, medianRatio, profilesDir, table, type BenchResult, type Figure } from './common/report.js'
import type { SchedulerConfig, SchedulerRun } from './scheduler-child.js'

export interface SchedulerOptions {
  sizes: number[]
  interval: number
  timeout: number
  durationMs: number
  runs: number
  profile?: boolean
}

interface Run extends SchedulerRun {
  run: number
  sweepNsPerHeartbeat: number
  sweepMaxTickMs: number
}

export async function run (opts: SchedulerOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const runs: Run[] = []
  for (let r = 0; r < opts.runs; r++) {
    for (const n of opts.sizes) {
      const child = new Child('scheduler-child', { n, interval: opts.interval, timeout: opts.timeout, durationMs: opts.durationMs } satisfies SchedulerConfig, [
        '--max-old-space-size=8192',
        ...(opts.profile === true && r === 0 ? ['--cpu-prof', `--cpu-prof-dir=${profilesDir()}`, `--cpu-prof-name=scheduler-${n}.cpuprofile`] : [])
      ])
      try {
        const plugin = await child.call<SchedulerRun>('plugin', undefined, 600_000)
        const sweep = await child.call<{ nsPerHeartbeat: number, maxTickMs: number }>('sweep', undefined, 600_000)
        runs.push({ ...plugin, run: r, sweepNsPerHeartbeat: sweep.nsPerHeartbeat, sweepMaxTickMs: sweep.maxTickMs })
        log(`  scheduler run ${r + 1}/${opts.runs} n=${n}: ${fmt(plugin.nsPerHeartbeat)} ns CPU/heartbeat (${fmt(plugin.wallNsPerHeartbeat)} ns wall), max tick ${fmt(plugin.maxTickMs)} ms wall, ${fmt(plugin.maxTickCpuMs)} ms CPU, ${plugin.slots} slots, ${plugin.pings} pings, deaths ${plugin.deaths}; README sweep ${fmt(sweep.nsPerHeartbeat)} ns, one pass ${fmt(sweep.maxTickMs)} ms`)
      } finally {
        await child.stop()
      }
    }
  }
  const figures: Figure[] = []
  const rows: string[][] = []
  const perKind: Record<string, Record<string, number>> = {}
  for (const n of opts.sizes) {
    const of = (key: keyof Run): number[] => runs.filter((x) => x.n === n).sort((a, b) => a.run - b.run).map((x) => x[key] as number)
    const ns = median(of('nsPerHeartbeat'))
    const maxTick = median(of('maxTickMs'))
    const maxTickCpu = median(of('maxTickCpuMs'))
    const label = n.toLocaleString('en-US')
    figures.push({ figure: `scheduler CPU per heartbeat, ${label} conns`, value: ns, unit: 'ns', baseline: 'README sweep loop over the same stubs', baselineValue: median(of('sweepNsPerHeartbeat')), ratio: medianRatio(of('nsPerHeartbeat'), of('sweepNsPerHeartbeat')), target: '<= 1000 ns', met: ns <= 1000 })
    figures.push({ figure: `scheduler max tick CPU, ${label} conns`, value: maxTickCpu, unit: 'ms', baseline: 'one README sweep pass', baselineValue: median(of('sweepMaxTickMs')), ratio: maxTickCpu / median(of('sweepMaxTickMs')), target: '<= 10 ms', met: maxTickCpu <= 10 })
    figures.push({ figure: `scheduler max tick wall (incl. preemption), ${label} conns`, value: maxTick, unit: 'ms', target: '<= 10 ms', met: maxTick <= 10 })
    perKind[String(n)] = { nsPerHeartbeat: ns, wallNsPerHeartbeat: median(of('wallNsPerHeartbeat')), maxTickMs: maxTick, maxTickCpuMs: maxTickCpu, p99TickMs: median(of('p99TickMs')), slots: median(of('slots')), startNs: median(of('startNs')), deaths: Math.max(...of('deaths')), heapMB: median(of('heapMB')) }
    rows.push([label, fmt(ns) + ' ns', fmt(median(of('wallNsPerHeartbeat'))) + ' ns', fmt(maxTickCpu) + ' ms', fmt(maxTick) + ' ms', fmt(median(of('p99TickMs'))) + ' ms', String(median(of('slots'))), fmt(median(of('startNs'))) + ' ns', fmt(median(of('sweepNsPerHeartbeat'))) + ' ns', fmt(median(of('sweepMaxTickMs'))) + ' ms'])
  }
  log('\n' + table(['connections', 'CPU ns / heartbeat', 'wall ns / heartbeat', 'max tick CPU', 'max tick wall', 'p99 tick', 'slots used', 'start()', 'sweep ns / heartbeat', 'sweep pass'], rows))
  return {
    bench: 'scheduler',
    title: `2. Scheduler alone, stub sockets, ${opts.interval} ms interval, ${opts.timeout} ms timeout`,
    params: { ...opts },
    figures,
    perKind,
    runs
  }
}
