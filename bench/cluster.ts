/**
 * Cluster benchmark (issue 13): three instances and one Redis on this machine, clients spread
 * over them, one instance publishing small messages to a route at a fixed rate and as fast
 * as possible. The plugin (`publish()`) against Socket.IO 4 with @socket.io/redis-adapter
 * (`io.emit()`), same topology, same clients count, alternating within one run. Figures:
 * deliveries per second, publish-to-client latency p50/p99, CPU (three servers + Redis) per
 * delivered message.
 *
 * Part of `npm run bench` (`--only=cluster`), or alone:
 * `npm run bench:cluster [-- --seconds=S --rate=R --clients=N --runs=N]`.
 * Needs `redis-server` on PATH (Debian's `redis-server` package); without it the benchmark
 * reports that it was skipped.
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Child, sleep, split } from './common/proc.js'
import { machine, median, printResult, resultsDir, table, type BenchResult, type Figure as BenchFigure } from './common/report.js'

type Kind = 'plugin' | 'socketio'
const KINDS: Kind[] = ['plugin', 'socketio']
const LABEL: Record<Kind, string> = { plugin: 'fastify-ws-heartbeat publish()', socketio: 'Socket.IO 4 + redis-adapter' }
const SIZE = 64

export interface ClusterOptions {
  /** Seconds per phase (fixed rate, then as fast as possible). */
  seconds: number
  /** Messages per second of the fixed-rate phase. */
  rate: number
  /** Clients, spread evenly over the three instances. */
  clients: number
  runs: number
}

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** CPU ms of a process from /proc (user + system, in clock ticks of 10 ms). */
function procCpuMs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

interface Figure { kind: Kind, mode: 'rate' | 'max', sent: number, errors: number, delivered: number, expected: number, perSecond: number, p50: number, p99: number, cpuUsPerDelivery: number }

async function measure (kind: Kind, opts: ClusterOptions, redisPort: number, redisPid: number): Promise<Figure[]> {
  const servers = [0, 1, 2].map((i) => new Child('cluster-server', { kind, redisPort, node: `bench-${i}` }))
  const ports = await Promise.all(servers.map((s) => s.call<number>('listen')))
  const perServer = split(opts.clients, 3)[0]
  const clients = new Child('cluster-clients', { kind, ports, perServer })
  const opened = await clients.call<number>('open')
  await sleep(1000)
  const figures: Figure[] = []
  for (const mode of ['rate', 'max'] as const) {
    await clients.call('reset')
    const cpu0 = await Promise.all(servers.map((s) => s.call<NodeJS.CpuUsage>('cpu')))
    const redis0 = procCpuMs(redisPid)
    const t0 = performance.timeOrigin + performance.now()
    const { sent, errors } = await servers[0].call<{ sent: number, errors: number }>('publish', { mode, rate: opts.rate, seconds: opts.seconds, size: SIZE })
    // Wait for the tail: until nothing more arrives for 300 ms (at most 10 s).
    let stats = await clients.call('stats')
    for (let i = 0; i < 50; i++) {
      await sleep(300)
      const next = await clients.call('stats')
      if (next.received === stats.received) break
      stats = next
    }
    stats = await clients.call('stats')
    const cpu1 = await Promise.all(servers.map((s) => s.call<NodeJS.CpuUsage>('cpu')))
    const cpuUs = cpu1.reduce((sum, c, i) => sum + c.user + c.system - cpu0[i].user - cpu0[i].system, 0) + (procCpuMs(redisPid) - redis0) * 1000
    const span = (stats.last - t0) / 1000
    figures.push({
      kind,
      mode,
      sent,
      errors,
      delivered: stats.received,
      expected: sent * opened,
      perSecond: stats.received / span,
      p50: stats.p50,
      p99: stats.p99,
      cpuUsPerDelivery: cpuUs / Math.max(1, stats.received)
    })
  }
  await Promise.all([clients.stop(), ...servers.map((s) => s.stop())])
  return figures
}

function hasRedis (): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export async function run (opts: ClusterOptions, log: (line: string) => void = console.log): Promise<BenchResult> {
  const title = `Cluster: publish() over Redis vs Socket.IO 4 + redis-adapter, 3 instances, ${opts.clients} clients, ${SIZE}-byte messages, ${opts.seconds} s per phase`
  if (!hasRedis()) {
    log('  cluster: skipped, redis-server is not installed (Debian: apt-get install redis-server)')
    return { bench: 'cluster', title: `${title} (skipped: no redis-server)`, params: { ...opts }, figures: [], runs: [] }
  }
  const redisPort = await freePort()
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  try {
    await sleep(500)
    const all: Figure[] = []
    for (let run = 0; run < opts.runs; run++) {
      const order = run % 2 === 0 ? KINDS : [...KINDS].reverse()
      for (const kind of order) {
        const figures = await measure(kind, opts, redisPort, redis.pid as number)
        for (const f of figures) log(`  cluster run ${run + 1}/${opts.runs} ${kind} ${f.mode}: ${f.perSecond.toFixed(0)} deliveries/s, p99 ${f.p99.toFixed(2)} ms, ${f.delivered}/${f.expected} delivered`)
        all.push(...figures)
      }
    }
    const rows: string[][] = []
    const figures: BenchFigure[] = []
    for (const mode of ['rate', 'max'] as const) {
      const phase = mode === 'rate' ? `${opts.rate} msg/s` : 'as fast as possible'
      const pick = (kind: Kind, key: keyof Figure): number => median(all.filter((f) => f.kind === kind && f.mode === mode).map((f) => f[key] as number))
      for (const kind of KINDS) {
        rows.push([
          phase,
          LABEL[kind],
          pick(kind, 'sent').toFixed(0),
          `${pick(kind, 'delivered').toFixed(0)} / ${pick(kind, 'expected').toFixed(0)}`,
          pick(kind, 'perSecond').toFixed(0),
          pick(kind, 'p50').toFixed(2),
          pick(kind, 'p99').toFixed(2),
          pick(kind, 'cpuUsPerDelivery').toFixed(2)
        ])
      }
      const ratio = (key: keyof Figure): number => pick('plugin', key) / pick('socketio', key)
      rows.push([phase, 'ratio plugin / Socket.IO', '', '', ratio('perSecond').toFixed(2) + 'x', ratio('p50').toFixed(2) + 'x', ratio('p99').toFixed(2) + 'x', ratio('cpuUsPerDelivery').toFixed(2) + 'x'])
      const base = { baseline: LABEL.socketio }
      figures.push({ figure: `deliveries/s, ${phase}`, value: pick('plugin', 'perSecond'), unit: '/s', ...base, baselineValue: pick('socketio', 'perSecond'), ratio: ratio('perSecond'), target: '>= 1.0x', met: ratio('perSecond') >= 1 })
      // As fast as possible, each side's latency is the queueing of its own (different)
      // offered load: only the fixed rate compares like with like.
      const p99Target = mode === 'rate' ? { target: '<= 1.0x', met: ratio('p99') <= 1 } : {}
      figures.push({ figure: `publish-to-client p99, ${phase}`, value: pick('plugin', 'p99'), unit: 'ms', ...base, baselineValue: pick('socketio', 'p99'), ratio: ratio('p99'), ...p99Target })
      figures.push({ figure: `CPU per delivery (3 servers + Redis), ${phase}`, value: pick('plugin', 'cpuUsPerDelivery'), unit: 'µs', ...base, baselineValue: pick('socketio', 'cpuUsPerDelivery'), ratio: ratio('cpuUsPerDelivery') })
      const lost = Math.max(...all.filter((f) => f.kind === 'plugin' && f.mode === mode).map((f) => f.expected - f.delivered))
      figures.push({ figure: `messages lost, ${phase} (worst run)`, value: lost, unit: 'msgs', target: '0', met: lost === 0 })
    }
    log(`\n3 instances + 1 Redis, ${opts.clients} clients, ${SIZE}-byte text messages, ${opts.seconds} s per phase, median of ${opts.runs} run(s)\n`)
    log(table(['publisher', 'server', 'published', 'delivered / expected', 'deliveries/s', 'p50 ms', 'p99 ms', 'CPU µs per delivery'], rows))
    return { bench: 'cluster', title, params: { ...opts, size: SIZE }, figures, runs: all }
  } finally {
    redis.kill('SIGKILL')
  }
}

function flag (name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  const value = arg === undefined ? process.env[`BENCH_${name.toUpperCase()}`] : arg.slice(name.length + 3)
  return value === undefined ? fallback : Number(value)
}

if (require.main === module) {
  const opts = { seconds: flag('seconds', 5), rate: flag('rate', 200), clients: flag('clients', 60), runs: flag('runs', 2) }
  run(opts).then((result) => {
    printResult(result)
    writeFileSync(join(resultsDir(), 'cluster.json'), JSON.stringify({ ...result, machine: machine(), date: new Date().toISOString() }, null, 2) + '\n')
  }).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
