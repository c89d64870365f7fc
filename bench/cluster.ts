/**
 * `npm run bench:cluster [-- --seconds=S --rate=R --clients=N --runs=N]`: three instances and
 * one Redis on this machine, clients spread over them, one instance publishing small
 * messages to a route at a fixed rate and as fast as possible. The plugin
 * (`publish()`) against Socket.IO 4 with @socket.io/redis-adapter (`io.emit()`), same
 * topology, same clients count, alternating within one run. Figures: deliveries per
 * second, publish-to-client latency p50/p99, CPU (three servers + Redis) per delivered
 * message. Results also go to bench/results/cluster.json.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Child, sleep, split } from './common/proc.js'
import { machine, median, resultsDir, table } from './common/report.js'

type Kind = 'plugin' | 'socketio'
const KINDS: Kind[] = ['plugin', 'socketio']
const LABEL: Record<Kind, string> = { plugin: 'fastify-ws-heartbeat publish()', socketio: 'Socket.IO 4 + redis-adapter' }

function flag (name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  const value = arg === undefined ? process.env[`BENCH_${name.toUpperCase()}`] : arg.slice(name.length + 3)
  return value === undefined ? fallback : Number(value)
}

const SECONDS = flag('seconds', 5)
const RATE = flag('rate', 200)
const CLIENTS = flag('clients', 60)
const RUNS = flag('runs', 2)
const SIZE = 64

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

async function measure (kind: Kind, redisPort: number, redisPid: number): Promise<Figure[]> {
  const servers = [0, 1, 2].map((i) => new Child('cluster-server', { kind, redisPort, node: `bench-${i}` }))
  const ports = await Promise.all(servers.map((s) => s.call<number>('listen')))
  const perServer = split(CLIENTS, 3)[0]
  const clients = new Child('cluster-clients', { kind, ports, perServer })
  const opened = await clients.call<number>('open')
  await sleep(1000)
  const figures: Figure[] = []
  for (const mode of ['rate', 'max'] as const) {
    await clients.call('reset')
    const cpu0 = await Promise.all(servers.map((s) => s.call<NodeJS.CpuUsage>('cpu')))
    const redis0 = procCpuMs(redisPid)
    const t0 = performance.timeOrigin + performance.now()
    const { sent, errors } = await servers[0].call<{ sent: number, errors: number }>('publish', { mode, rate: RATE, seconds: SECONDS, size: SIZE })
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

async function main (): Promise<void> {
  const redisPort = await freePort()
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  try {
    await sleep(500)
    const all: Figure[] = []
    for (let run = 0; run < RUNS; run++) {
      const order = run % 2 === 0 ? KINDS : [...KINDS].reverse()
      for (const kind of order) {
        const figures = await measure(kind, redisPort, redis.pid as number)
        for (const f of figures) console.log(JSON.stringify(f))
        all.push(...figures)
      }
    }
    const rows: string[][] = []
    for (const mode of ['rate', 'max'] as const) {
      const pick = (kind: Kind, key: keyof Figure): number => median(all.filter((f) => f.kind === kind && f.mode === mode).map((f) => f[key] as number))
      for (const kind of KINDS) {
        rows.push([
          mode === 'rate' ? `${RATE} msg/s` : 'as fast as possible',
          LABEL[kind],
          pick(kind, 'sent').toFixed(0),
          `${pick(kind, 'delivered').toFixed(0)} / ${pick(kind, 'expected').toFixed(0)}`,
          pick(kind, 'perSecond').toFixed(0),
          pick(kind, 'p50').toFixed(2),
          pick(kind, 'p99').toFixed(2),
          pick(kind, 'cpuUsPerDelivery').toFixed(2)
        ])
      }
      const ratio = (key: keyof Figure): string => (pick('plugin', key) / pick('socketio', key)).toFixed(2)
      rows.push([mode === 'rate' ? `${RATE} msg/s` : 'as fast as possible', 'ratio plugin / Socket.IO', '', '', ratio('perSecond') + 'x', ratio('p50') + 'x', ratio('p99') + 'x', ratio('cpuUsPerDelivery') + 'x'])
    }
    console.log(`\n3 instances + 1 Redis, ${CLIENTS} clients, ${SIZE}-byte text messages, ${SECONDS} s per phase, median of ${RUNS} run(s)\n`)
    console.log(table(['publisher', 'server', 'published', 'delivered / expected', 'deliveries/s', 'p50 ms', 'p99 ms', 'CPU µs per delivery'], rows))
    writeFileSync(join(resultsDir(), 'cluster.json'), JSON.stringify({ machine: machine(), seconds: SECONDS, rate: RATE, clients: CLIENTS, runs: RUNS, figures: all }, null, 2))
  } finally {
    redis.kill('SIGKILL')
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
