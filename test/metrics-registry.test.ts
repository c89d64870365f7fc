import t from 'tap'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import fastifyMetrics from 'fastify-metrics'
import { Registry, register as defaultRegistry } from 'prom-client'
import heartbeat from '../lib/index.js'
import { createMetrics } from '../lib/metrics/index.js'
import type { AddressInfo } from 'node:net'
import { connect, until } from './helpers/index.js'

t.setTimeout(60_000)
const run = promisify(execFile)
const root = resolve(__dirname, '..')

async function app (metrics: unknown) {
  const app = Fastify()
  await app.register(heartbeat, { metrics } as never)
  return app
}

t.test('two live apps on one registry and prefix: the second throws naming metrics, the first keeps its metrics', async (t) => {
  const registry = new Registry()
  const first = await app({ registry })
  t.teardown(() => first.close())
  const before = registry.getSingleMetric('ws_connections')
  t.ok(before)

  const second = Fastify()
  t.teardown(() => second.close())
  await t.rejects(async () => { await second.register(heartbeat, { metrics: { registry } }) }, {
    code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION',
    message: /invalid option "metrics".*ws_connections is already registered/
  })
  t.equal(registry.getSingleMetric('ws_connections'), before, 'the first app still owns its metrics')
  t.equal((await registry.getMetricsAsJSON()).length, 11)

  // Another prefix on the same registry is another set of names.
  const third = await app({ registry, prefix: 'other_' })
  t.equal((await registry.getMetricsAsJSON()).length, 22)
  await third.close()
  t.equal((await registry.getMetricsAsJSON()).length, 11, 'closing one app removes only its own metrics')
  t.equal(registry.getSingleMetric('ws_connections'), before)
})

t.test('app.close() unregisters: create and close apps in a loop on one registry', async (t) => {
  const registry = new Registry()
  for (let i = 0; i < 20; i++) {
    const a = await app({ registry })
    a.get('/ws', { websocket: true }, () => {})
    await a.ready()
    t.equal((await registry.getMetricsAsJSON()).length, 11, `round ${i}: registered`)
    await a.close()
    t.equal((await registry.getMetricsAsJSON()).length, 0, `round ${i}: gone after close`)
  }
})

t.test('metrics: true uses prom-client\'s default registry, beside fastify-metrics', async (t) => {
  const app = Fastify()
  t.teardown(() => { defaultRegistry.clear() })
  t.teardown(() => app.close())
  // fastify-metrics on the same (default) registry, serving GET /metrics.
  await app.register(fastifyMetrics, { endpoint: '/metrics' })
  await app.register(heartbeat, { metrics: true })
  app.get('/echo', { websocket: true }, () => {})
  app.get('/hello', async () => 'hi')
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  const url = `ws://127.0.0.1:${port}`
  t.ok(defaultRegistry.getSingleMetric('ws_connections'), 'in the default registry')
  await connect(t, url + '/echo')
  await until(() => app.wsConnections.size === 1)
  await fetch(`http://127.0.0.1:${port}/hello`)
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(res.status, 200)
  const text = await res.text()
  t.match(text, /\nws_connections\{route="\/echo"\} 1\n/)
  t.match(text, 'ws_connections_accepted_total{route="/echo"} 1')
  t.match(text, /http_request_duration_seconds_count\{[^}]*route="\/hello"[^}]*\} 1/, 'fastify-metrics works too')
  t.match(text, 'process_cpu_user_seconds_total', 'and its default metrics')
  const names = (await defaultRegistry.getMetricsAsJSON()).map((m) => m.name)
  t.equal(new Set(names).size, names.length, 'no name twice')
  t.equal(names.filter((n) => n.startsWith('ws_')).length, 11)
})

t.test('metrics: true twice in one process: the second app throws until the first closes', async (t) => {
  const first = await app(true)
  const second = Fastify()
  t.teardown(() => second.close())
  await t.rejects(async () => { await second.register(heartbeat, { metrics: true }) }, { code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION', message: /"metrics"/ })
  await first.close()
  const third = await app(true)
  t.ok(defaultRegistry.getSingleMetric('ws_draining'))
  await third.close()
  t.equal(defaultRegistry.getSingleMetric('ws_draining'), undefined)
})

t.test('invalid metrics values throw naming the option and the value', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['yes', /invalid option "metrics": expected true, false or an object \{ registry\?, prefix\? \}, received 'yes'/],
    [1, /"metrics".*received 1/],
    [null, /"metrics".*received null/],
    [[], /"metrics".*received \[\]/],
    [() => {}, /"metrics".*received \[Function/],
    [{ prefix: '1ws_' }, /"metrics.prefix": expected a string matching \[a-zA-Z_:\]\[a-zA-Z0-9_:\]\*, received '1ws_'/],
    [{ prefix: 'ws-' }, /"metrics.prefix".*'ws-'/],
    [{ prefix: '' }, /"metrics.prefix".*''/],
    [{ prefix: 7 }, /"metrics.prefix".*7/],
    [{ registry: {} }, /"metrics.registry": expected a prom-client Registry, received \{\}/],
    [{ registry: 'default' }, /"metrics.registry".*'default'/],
    [{ registery: new Registry() }, /"metrics.registery": expected one of registry, prefix \(unknown key\)/]
  ]
  for (const [value, message] of cases) {
    const a = Fastify()
    await t.rejects(async () => { await a.register(heartbeat, { metrics: value } as never) }, { code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION', message }, String(value))
    await a.close()
  }
  // Off: nothing registered anywhere.
  for (const value of [false, undefined]) {
    const a = await app(value)
    t.equal(defaultRegistry.getSingleMetric('ws_connections'), undefined)
    await a.close()
  }
})

t.test('prom-client missing: a real failed require says to install it, naming metrics', async (t) => {
  // Node's own require, rooted in a directory with no node_modules above it that has prom-client.
  const dir = mkdtempSync(join(tmpdir(), 'no-prom-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const requireHere = createRequire(join(dir, 'index.js'))
  t.throws(() => requireHere('prom-client'), { code: 'MODULE_NOT_FOUND' }, 'really not resolvable from there')
  t.throws(() => createMetrics(true, requireHere), {
    code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION',
    message: /invalid option "metrics": expected prom-client to be installed when metrics is set: run `npm i prom-client` \(>= 15\), received true/
  })
  t.equal(createMetrics(false, requireHere), null, 'not required when metrics are off')
  t.equal(createMetrics(undefined, requireHere), null)
})

t.test('prom-client missing: the built package in a project without it', async (t) => {
  const dist = join(root, 'dist', 'index.js')
  if (!existsSync(dist)) {
    t.fail(`${dist} is missing: run \`npm run build\` first (npm test builds before tap)`)
    return
  }
  // A project whose node_modules has the package (a copy: Node resolves from a file's real
  // path) and its dependencies, but no prom-client.
  const dir = mkdtempSync(join(tmpdir(), 'no-prom-project-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pkg = join(dir, 'node_modules', 'fastify-ws-heartbeat')
  mkdirSync(pkg, { recursive: true })
  cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true })
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'))
  for (const dep of ['fastify', 'fastify-plugin', '@fastify/websocket', '@fastify/error', 'ws']) {
    mkdirSync(join(dir, 'node_modules', dep, '..'), { recursive: true })
    symlinkSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir')
  }
  writeFileSync(join(dir, 'main.js'), [
    "const Fastify = require('fastify')",
    "const heartbeat = require('fastify-ws-heartbeat')",
    'async function main () {',
    '  const off = Fastify()',
    '  await off.register(heartbeat)',
    '  await off.ready()',
    "  const loaded = Object.keys(require.cache).some((f) => f.includes('prom-client'))",
    '  await off.close()',
    '  const on = Fastify()',
    '  try {',
    '    await on.register(heartbeat, { metrics: true })',
    "    return 'registered'",
    '  } catch (err) {',
    '    return JSON.stringify({ loaded, code: err.code, message: err.message })',
    '  } finally { await on.close() }',
    '}',
    'main().then((out) => process.stdout.write(out))'
  ].join('\n'))
  const { stdout } = await run(process.execPath, [join(dir, 'main.js')], { cwd: dir, env: { PATH: process.env.PATH } })
  const out = JSON.parse(stdout)
  t.equal(out.loaded, false, 'without metrics, prom-client is never required')
  t.equal(out.code, 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION')
  t.match(out.message, /invalid option "metrics".*npm i prom-client/)
})

t.test('cluster(source): ws_cluster_* read from the cluster at scrape time, removed on close', async (t) => {
  const registry = new Registry()
  const metrics = createMetrics({ registry, prefix: 'ws_' })
  if (metrics === null) throw new Error('metrics are on')
  const state = { nodes: 3, connections: 42, up: true, errors: 0 }
  metrics.cluster({
    nodes: () => state.nodes,
    connections: () => state.connections,
    brokerUp: () => state.up,
    publishErrors: () => state.errors
  })
  const read = async (name: string): Promise<number | undefined> => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name) as unknown as { type: string, values: Array<{ value: number, labels: object }> } | undefined
    if (m === undefined) return undefined
    t.same(m.values.map((v) => v.labels), [{}], `${name} has no labels`)
    return m.values[0].value
  }
  t.equal(await read('ws_cluster_nodes'), 3)
  t.equal(await read('ws_cluster_connections'), 42)
  t.equal(await read('ws_cluster_broker_up'), 1)
  t.equal(await read('ws_cluster_publish_errors_total'), 0)
  Object.assign(state, { nodes: 1, connections: 5, up: false, errors: 2 })
  t.equal(await read('ws_cluster_nodes'), 1)
  t.equal(await read('ws_cluster_connections'), 5)
  t.equal(await read('ws_cluster_broker_up'), 0)
  t.equal(await read('ws_cluster_publish_errors_total'), 2)
  const types = Object.fromEntries((await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('ws_cluster')).map((m) => [m.name, String(m.type)]))
  t.same(types, { ws_cluster_nodes: 'gauge', ws_cluster_connections: 'gauge', ws_cluster_broker_up: 'gauge', ws_cluster_publish_errors_total: 'counter' })
  t.throws(() => metrics.cluster({ nodes: () => 0, connections: () => 0, brokerUp: () => false, publishErrors: () => 0 }),
    { code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION', message: /"metrics".*ws_cluster_nodes is already registered/ })
  metrics.close()
  t.equal((await registry.getMetricsAsJSON()).length, 0)
})
