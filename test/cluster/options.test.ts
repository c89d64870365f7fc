import t from 'tap'
import Fastify from 'fastify'
import Redis from 'ioredis'
import heartbeat from '../../lib/index.js'
import { collect, connect, sleep, startApp, until } from '../helpers/index.js'
import { freePort } from './helpers/redis.js'

t.setTimeout(30_000)

// Never connected: validation needs only the shape of a client.
const redis = new Redis({ lazyConnect: true })
t.teardown(() => redis.disconnect())

const cases: Array<[string, unknown, RegExp]> = [
  ['not an object', 'redis://x', /invalid option "cluster".*'redis:\/\/x'/],
  ['redis missing', {}, /invalid option "cluster\.redis".*ioredis-compatible.*undefined/],
  ['redis not a client', { redis: { publish () {} } }, /invalid option "cluster\.redis"/],
  ['unknown key', { redis, intervall: 5 }, /invalid option "cluster\.intervall"/],
  ['empty prefix', { redis, prefix: '' }, /invalid option "cluster\.prefix"/],
  ['empty node', { redis, node: '' }, /invalid option "cluster\.node"/],
  ['node too long', { redis, node: 'x'.repeat(256) }, /invalid option "cluster\.node"/],
  ['interval not finite', { redis, interval: Infinity }, /invalid option "cluster\.interval".*Infinity/],
  ['interval negative', { redis, interval: -1 }, /invalid option "cluster\.interval".*-1/],
  ['timeout a string', { redis, timeout: '6000' }, /invalid option "cluster\.timeout".*'6000'/],
  ['timeout <= interval', { redis, interval: 1000, timeout: 1000 }, /invalid option "cluster\.timeout".*more than cluster\.interval \(1000 ms\).*1000/],
  ['timeout <= default interval', { redis, timeout: 1500 }, /invalid option "cluster\.timeout".*1500/],
  ['maxConnections 0', { redis, maxConnections: 0 }, /invalid option "cluster\.maxConnections".*0/],
  ['maxConnections 1.5', { redis, maxConnections: 1.5 }, /invalid option "cluster\.maxConnections".*1\.5/]
]

for (const [name, cluster, message] of cases) {
  t.test(`cluster option: ${name}`, async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(heartbeat, { cluster: cluster as never }) }, { code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION', message })
  })
}

t.test('defaults: node id from host, pid and a random part; no connection before ready', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(heartbeat, { cluster: { redis } })
  const node = app.wsConnections.cluster!.node
  t.match(node, new RegExp(`-${process.pid}-[0-9a-f]{8}$`))
  t.equal(redis.status, 'wait', 'the client is not used until the app is ready')
})

t.test('without cluster: cluster is null, publish delivers on this node and resolves', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => { app.get('/chat', { websocket: true }, () => {}) })
  t.equal(app.wsConnections.cluster, null)
  const got = collect(await connect(t, `${url}/chat`))
  await app.wsConnections.publish('local', { route: '/chat' })
  await until(() => got.length === 1, 2000, 'delivered')
  t.same(got, ['local'])
  await t.rejects(app.wsConnections.publish({ not: 'data' } as never), TypeError)
})

// ioredis only logs an 'error' nobody listens to; other clients (and any plain EventEmitter)
// throw it, which crashes the process. This one throws, and so does its duplicate.
let strictErrors = 0
class StrictRedis extends Redis {
  override duplicate (): StrictRedis {
    return new StrictRedis(this.options)
  }

  override silentEmit (eventName: string, arg?: unknown): boolean {
    if (eventName === 'error') strictErrors++
    return this.emit(eventName, arg)
  }
}

t.test('Redis unreachable from the start: local service works, broker down, publish rejects, no crash', async (t) => {
  const port = await freePort()
  const client = new StrictRedis({ host: '127.0.0.1', port, retryStrategy: () => 50, maxRetriesPerRequest: 1 })
  t.teardown(() => client.disconnect())
  const { app, url, port: appPort } = await startApp(t, { cluster: { redis: client, interval: 100, timeout: 300 } }, (app) => {
    app.get('/echo', { websocket: true }, (socket) => { socket.on('message', (d) => socket.send(d.toString())) })
  })
  const ws = await connect(t, `${url}/echo`)
  const got = collect(ws)
  ws.send('still here')
  await until(() => got.length === 1, 2000, 'echo')
  const res = await fetch(`http://127.0.0.1:${appPort}/health/ws`)
  t.equal(res.status, 200)
  t.same(await res.json(), { status: 'ok', connections: 1, routes: { '/echo': 1 }, cluster: { nodes: 1, connections: 1, broker: 'down' } })
  const local = collect(await connect(t, `${url}/echo`))
  await t.rejects(app.wsConnections.publish('x'), /unreachable/)
  await until(() => local.length === 1, 2000, 'local delivery happened anyway')
  t.same(app.wsConnections.cluster!.stats(), { nodes: 1, connections: 2, routes: { '/echo': 2 }, broker: 'down' })
  await sleep(300)
  t.ok(strictErrors > 0, `the clients emitted ${strictErrors} errors, nothing crashed`)
})
