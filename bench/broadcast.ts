/**
 * Benchmark 8, broadcast fan-out (issue 15): N connections, a new `size`-byte text message
 * broadcast back to back for `windowMs`, four ways:
 *   loop      for (const c of app.websocketServer.clients) c.send(data)
 *   fanout    lib/fanout.ts: the frame built once, written through each idle ws Sender
 *   raw       the floor: one pre-built frame, net.Socket.write to every socket
 *   socketio  socket.io 4 io.emit (its own server and connections; reference only)
 * loop, fanout and raw take turns on the same server process and the same sockets.
 * Deliveries are counted at the clients (raw TCP clients in child processes walking frame
 * headers, bench/broadcast-load.ts) until every broadcast has arrived; server CPU is
 * process.cpuUsage over the same span. Runnable alone (after `npm run build:bench`):
 * node build/bench/broadcast.js [--quick | --smoke] [--runs=N] [--connections=N] [--duration=S].
 */
import { Child, split } from './common/proc.js'
import { rotate, stopAll } from './common/fleet.js'
import { fmt, median, medianRatio, printResult, table, type BenchResult, type Figure } from './common/report.js'
import { presets } from './common/scale.js'
import { parseFlags } from './run.js'
import type { BroadcastServerConfig, BroadcastWay, BroadcastWindow } from './broadcast-server.js'
import type { BroadcastLoadConfig } from './broadcast-load.js'

export interface BroadcastOptions {
  connections: number[]
  size: number
  windowMs: number
  warmupMs: number
  runs: number
}

export interface BroadcastRun {
  way: BroadcastWay
  connections: number
  run: number
  broadcasts: number
  deliveries: number
  /** Deliveries expected and not counted at the clients (should be 0). */
  lost: number
  perSecond: number
  /** Server CPU per delivery, in µs. */
  usPerDelivery: number
  systemShare: number
  waits: number
}

const PER_LOAD = 2_500
const WAYS: BroadcastWay[] = ['loop', 'fanout', 'raw']
const LABEL: Record<BroadcastWay, string> = {
  loop: 'plain loop of socket.send',
  fanout: 'fanout (lib/fanout.ts)',
  raw: 'raw-write floor',
  socketio: 'socket.io 4 io.emit'
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface Fleet { server: Child, loads: Child[] }

async function startFleet (n: number, socketio: boolean): Promise<Fleet> {
  const server = new Child('broadcast-server', { kind: socketio ? 'socketio' : 'app' } satisfies BroadcastServerConfig)
  const loads = Array.from({ length: Math.max(1, Math.ceil(n / PER_LOAD)) }, () => new Child('broadcast-load', { socketio } satisfies BroadcastLoadConfig))
  try {
    const { port } = await server.call<{ port: number }>('listen', undefined, 30_000)
    const path = socketio ? '/socket.io/?EIO=4&transport=websocket' : '/ws'
    const parts = split(n, loads.length)
    const opened = await Promise.all(loads.map((l, i) => l.call<{ opened: number, failed: number }>('open', { port, path, n: parts[i], concurrency: 64 }, 600_000)))
    const failed = opened.reduce((s, r) => s + r.failed, 0)
    if (failed > 0) throw new Error(`${failed} of ${n} connections failed`)
    const end = Date.now() + 30_000
    while ((await server.call<{ connections: number }>('count')).connections < n) {
      if (Date.now() > end) throw new Error('the server did not see every connection')
      await sleep(50)
    }
    return { server, loads }
  } catch (err) {
    await stopAll([...loads, server])
    throw err
  }
}

async function measure ({ server, loads }: Fleet, way: BroadcastWay, opts: BroadcastOptions, ms: number, run: number, n: number): Promise<BroadcastRun> {
  const length = way === 'socketio' ? Buffer.byteLength('42' + JSON.stringify(['m', 'x'.repeat(opts.size)])) : opts.size
  await Promise.all(loads.map((l) => l.call('expect', { length })))
  await server.call('cpuStart')
  const w = await server.call<BroadcastWindow>('broadcastFor', { way, ms, size: opts.size }, ms + 120_000)
  const expected = w.broadcasts * w.sockets
  let counted = { frames: 0, others: 0 }
  const end = Date.now() + 60_000
  for (;;) {
    const all = await Promise.all(loads.map((l) => l.call<{ frames: number, others: number }>('count')))
    counted = { frames: all.reduce((s, c) => s + c.frames, 0), others: all.reduce((s, c) => s + c.others, 0) }
    if (counted.frames >= expected || Date.now() > end) break
    await sleep(10)
  }
  const cpu = await server.call<{ cpuMs: number, systemMs: number, wallMs: number }>('cpuStop')
  return {
    way,
    connections: n,
    run,
    broadcasts: w.broadcasts,
    deliveries: counted.frames,
    lost: expected - counted.frames,
    perSecond: (1000 * counted.frames) / cpu.wallMs,
    usPerDelivery: (1000 * cpu.cpuMs) / counted.frames,
    systemShare: cpu.systemMs / cpu.cpuMs,
    waits: w.waits
  }
}

export async function run (opts: BroadcastOptions, log: (line: string) => void = console.log): Promise<BroadcastResult> {
  const runs: BroadcastRun[] = []
  for (const n of opts.connections) {
    for (const socketio of [false, true]) {
      const ways: BroadcastWay[] = socketio ? ['socketio'] : WAYS
      const fleet = await startFleet(n, socketio)
      try {
        for (const way of ways) await measure(fleet, way, opts, opts.warmupMs, -1, n)
        for (let r = 0; r < opts.runs; r++) {
          for (const way of rotate(ways, r)) {
            const m = await measure(fleet, way, opts, opts.windowMs, r, n)
            runs.push(m)
            log(`  broadcast ${n} conns run ${r + 1}/${opts.runs} ${way}: ${fmt(m.perSecond)} deliveries/s, ${fmt(m.usPerDelivery)} µs CPU/delivery (${fmt(100 * m.systemShare)} % system), ${m.broadcasts} broadcasts, lost ${m.lost}, pacing waits ${m.waits}`)
          }
        }
      } finally {
        await stopAll([...fleet.loads, fleet.server])
      }
    }
  }
  return summarize(opts, runs, log)
}

type BroadcastResult = BenchResult & { runs: BroadcastRun[] }

function summarize (opts: BroadcastOptions, runs: BroadcastRun[], log: (line: string) => void): BroadcastResult {
  const of = (way: BroadcastWay, n: number, key: 'perSecond' | 'usPerDelivery'): number[] =>
    runs.filter((r) => r.way === way && r.connections === n).sort((a, b) => a.run - b.run).map((r) => r[key])
  const figures: Figure[] = []
  const perKind: Record<string, Record<string, number>> = {}
  const rows: string[][] = []
  for (const n of opts.connections) {
    const speedup = medianRatio(of('fanout', n, 'perSecond'), of('loop', n, 'perSecond'))
    figures.push({ figure: `broadcast deliveries/s, ${n} conns, ${opts.size} B text`, value: median(of('fanout', n, 'perSecond')), unit: 'deliveries/s', baseline: LABEL.loop, baselineValue: median(of('loop', n, 'perSecond')), ratio: speedup, target: '>= 1.25x', met: speedup >= 1.25 })
    const cost = medianRatio(of('fanout', n, 'usPerDelivery'), of('raw', n, 'usPerDelivery'))
    figures.push({ figure: `broadcast server CPU per delivery, ${n} conns`, value: median(of('fanout', n, 'usPerDelivery')), unit: 'µs', baseline: LABEL.raw, baselineValue: median(of('raw', n, 'usPerDelivery')), ratio: cost, target: '<= 1.15x', met: cost <= 1.15 })
    figures.push({ figure: `plain loop CPU per delivery, ${n} conns`, value: median(of('loop', n, 'usPerDelivery')), unit: 'µs', baseline: LABEL.raw, baselineValue: median(of('raw', n, 'usPerDelivery')), ratio: medianRatio(of('loop', n, 'usPerDelivery'), of('raw', n, 'usPerDelivery')) })
    figures.push({ figure: `socket.io io.emit CPU per delivery, ${n} conns`, value: median(of('socketio', n, 'usPerDelivery')), unit: 'µs', baseline: LABEL.fanout, baselineValue: median(of('fanout', n, 'usPerDelivery')), ratio: median(of('socketio', n, 'usPerDelivery')) / median(of('fanout', n, 'usPerDelivery')) })
    for (const way of [...WAYS, 'socketio'] as BroadcastWay[]) {
      const perSecond = median(of(way, n, 'perSecond'))
      const us = median(of(way, n, 'usPerDelivery'))
      perKind[`${way}-${n}`] = { perSecond, usPerDelivery: us }
      rows.push([String(n), LABEL[way], fmt(perSecond), fmt(us) + ' µs', fmt(us / median(of('raw', n, 'usPerDelivery'))) + 'x'])
    }
  }
  log('\n' + table(['conns', 'way', 'deliveries/s', 'CPU / delivery', 'CPU vs raw floor'], rows))
  const lost = runs.reduce((s, r) => s + r.lost, 0)
  if (lost !== 0) log(`WARNING: ${lost} deliveries never counted at the clients`)
  return {
    bench: 'broadcast',
    title: `8. Broadcast fan-out: ${opts.connections.join(' and ')} connections, ${opts.size}-byte text, ${opts.windowMs / 1000} s windows`,
    params: { ...opts },
    figures,
    perKind,
    runs
  }
}

if (require.main === module) {
  // Same flags and presets as bench/run.ts (--quick, --smoke, --runs, --connections, --duration).
  run(presets(parseFlags(process.argv.slice(2))).broadcast as BroadcastOptions).then((result) => {
    printResult(result)
    process.exit(0)
  }, (err) => {
    console.error(err)
    process.exit(1)
  })
}
