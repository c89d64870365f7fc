/**
 * Benchmark 4, memory: heap and RSS per connection at N connections after gc(), the
 * plugin vs plain @fastify/websocket (server run with --expose-gc), once every connection
 * has had heartbeats; optionally a soak that samples the plugin's heap for a while.
 */
import { sleep } from './common/proc.js'
import { loadStats, openConnections, rotate, startLoads, startServer, stopAll } from './common/fleet.js'
import { fmt, median, table, type BenchResult, type Figure } from './common/report.js'
import type { ServerKind } from './server.js'

export interface MemoryOptions {
  connections: number
  interval: number
  soakS: number
  runs: number
}

interface Mem { heapUsed: number, rss: number, external: number, arrayBuffers: number, connections: number }

export interface MemoryRun {
  kind: ServerKind
  run: number
  heapPerConn: number
  rssPerConn: number
  externalPerConn: number
  before: Mem
  after: Mem
}

/**
 * Heap, RSS and external memory per connection of one server (a `ws`-load kind: not
 * socketio) at `opts.connections`, after gc(), once every connection has had application
 * traffic and a few heartbeats. Also used by bench/scale.ts.
 */
export async function measureMemory (kind: ServerKind, opts: Pick<MemoryOptions, 'connections' | 'interval'>, run: number): Promise<MemoryRun> {
  if (kind === 'socketio') throw new Error('measureMemory: its load speaks plain ws, not socket.io')
  const { server, port } = await startServer({ kind, interval: opts.interval, timeout: opts.interval }, ['--expose-gc'])
  const loads = startLoads(opts.connections, 'ws')
  try {
    const before = await server.call<Mem>('mem')
    const { opened } = await openConnections(loads, `ws://127.0.0.1:${port}/ws`, opts.connections)
    // Every connection carries a little application traffic on both servers: `ws` keeps a
    // receive buffer list on a socket once any frame has arrived (about 170 B), which a plain
    // connection that never received a frame does not have and a heartbeated one always does;
    // without this the plain baseline would be a connection no real application has.
    await Promise.all(loads.map((l) => l.call('echo', { ms: 200, size: 64 })))
    // Every connection pinged and answered a few times: the steady state.
    await sleep(3 * opts.interval)
    const after = await server.call<Mem>('mem')
    return {
      kind,
      run,
      heapPerConn: (after.heapUsed - before.heapUsed) / opened,
      rssPerConn: (after.rss - before.rss) / opened,
      externalPerConn: (after.external - before.external) / opened,
      before,
      after
    }
  } finally {
    await stopAll([...loads, server])
  }
}

/** The plugin alone for `soakS` seconds: heap after gc() sampled 20 times. */
async function soak (opts: MemoryOptions, log: (line: string) => void): Promise<{ samples: Array<{ s: number, heapUsed: number, rss: number, connections: number }>, drops: number }> {
  const { server, port } = await startServer({ kind: 'plugin', interval: opts.interval, timeout: opts.interval }, ['--expose-gc'])
  const loads = startLoads(opts.connections, 'ws')
  const samples: Array<{ s: number, heapUsed: number, rss: number, connections: number }> = []
  try {
    await openConnections(loads, `ws://127.0.0.1:${port}/ws`, opts.connections)
    await sleep(3 * opts.interval)
    const start = Date.now()
    for (let i = 0; i <= 20; i++) {
      const m = await server.call<Mem>('mem')
      const s = (Date.now() - start) / 1000
      samples.push({ s, heapUsed: m.heapUsed, rss: m.rss, connections: m.connections })
      log(`  soak ${fmt(s)} s: heap ${fmt(m.heapUsed / 2 ** 20)} MiB, rss ${fmt(m.rss / 2 ** 20)} MiB, ${m.connections} connections`)
      if (i < 20) await sleep((opts.soakS * 1000) / 20)
    }
    return { samples, drops: (await loadStats(loads)).closed }
  } finally {
    await stopAll([...loads, server])
  }
}

export async function run (opts: MemoryOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const kinds: ServerKind[] = ['plugin', 'plain']
  const runs: MemoryRun[] = []
  for (let r = 0; r < opts.runs; r++) {
    for (const kind of rotate(kinds, r)) {
      const m = await measureMemory(kind, opts, r)
      runs.push(m)
      log(`  memory run ${r + 1}/${opts.runs} ${kind}: heap ${fmt(m.heapPerConn)} B/conn, rss ${fmt(m.rssPerConn)} B/conn`)
    }
  }
  const of = (kind: ServerKind, key: 'heapPerConn' | 'rssPerConn' | 'externalPerConn'): number[] => runs.filter((x) => x.kind === kind).sort((a, b) => a.run - b.run).map((x) => x[key])
  const extraHeap = median(of('plugin', 'heapPerConn').map((x, i) => x - of('plain', 'heapPerConn')[i]))
  const extraRss = median(of('plugin', 'rssPerConn').map((x, i) => x - of('plain', 'rssPerConn')[i]))
  const figures: Figure[] = [
    { figure: `heap per connection at ${opts.connections}, after gc()`, value: median(of('plugin', 'heapPerConn')), unit: 'B', baseline: 'plain @fastify/websocket', baselineValue: median(of('plain', 'heapPerConn')) },
    { figure: 'extra heap per connection over plain', value: extraHeap, unit: 'B', target: '<= +512 B', met: extraHeap <= 512 },
    { figure: `RSS per connection at ${opts.connections}`, value: median(of('plugin', 'rssPerConn')), unit: 'B', baseline: 'plain @fastify/websocket', baselineValue: median(of('plain', 'rssPerConn')) },
    { figure: 'extra RSS per connection over plain', value: extraRss, unit: 'B' }
  ]
  let soakResult: Awaited<ReturnType<typeof soak>> | null = null
  if (opts.soakS > 0) {
    soakResult = await soak(opts, log)
    const first = soakResult.samples[1] ?? soakResult.samples[0]
    const last = soakResult.samples[soakResult.samples.length - 1]
    const growth = (last.heapUsed - first.heapUsed) / 2 ** 20
    figures.push({ figure: `heap growth over a ${opts.soakS} s soak (${opts.connections} conns, ${opts.interval} ms interval)`, value: growth, unit: 'MiB', target: 'flat (< 1 MiB and < 2 %)', met: growth < 1 && growth < 0.02 * first.heapUsed / 2 ** 20 })
  }
  log('\n' + table(['server', 'heap B/conn', 'RSS B/conn', 'external B/conn'], kinds.map((k) => [k, fmt(median(of(k, 'heapPerConn'))), fmt(median(of(k, 'rssPerConn'))), fmt(median(of(k, 'externalPerConn')))])))
  return {
    bench: 'memory',
    title: `4. Memory per connection at ${opts.connections} connections (${opts.interval} ms interval), after gc()`,
    params: { ...opts },
    figures,
    runs: soakResult === null ? runs : [...runs, { soak: soakResult }]
  }
}
