import t from 'tap'
import WebSocket from 'ws'
import { collect, connect, once, sleep, until } from '../helpers/index.js'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import heartbeat from '../../lib/index.js'
import { redisClient, startRedis } from './helpers/redis.js'
import { RELAXED, clusterApp, interval, untilNodes } from './helpers/apps.js'

t.setTimeout(60_000)

t.test('counts over three nodes: stats(), nodes(), nodeUp, the health body', async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a', RELAXED)
  const b = await clusterApp(t, redis.port, 'b', RELAXED)
  const c = await clusterApp(t, redis.port, 'c', RELAXED)
  await untilNodes([a, b, c], 3)
  t.same(a.events.filter((e) => e.event === 'nodeUp').map((e) => e.node).sort(), ['b', 'c'])
  t.equal(a.app.wsConnections.cluster!.node, 'a')

  await connect(t, `${a.url}/echo`)
  await connect(t, `${b.url}/echo`)
  await connect(t, `${b.url}/chat`)
  await connect(t, `${c.url}/chat`)
  await until(() => [a, b, c].every((x) => x.app.wsConnections.cluster!.stats().connections === 4), 2000, 'totals')
  t.same(c.app.wsConnections.cluster!.stats(), { nodes: 3, connections: 4, routes: { '/echo': 2, '/chat': 2 }, broker: 'up' })
  const nodes = a.app.wsConnections.cluster!.nodes()
  t.same(nodes.map((n) => [n.node, n.connections]).sort(), [['a', 1], ['b', 2], ['c', 1]])
  t.equal(nodes[0].node, 'a', 'this node first')
  t.same(nodes.find((n) => n.node === 'b')!.routes, { '/echo': 1, '/chat': 1 })
  for (const n of nodes) t.ok(Math.abs(Date.now() - n.lastSeen) < 1000, 'lastSeen is epoch ms, recent')

  const res = await fetch(`http://127.0.0.1:${a.port}/health/ws`)
  t.equal(res.status, 200)
  t.same(await res.json(), { status: 'ok', connections: 1, routes: { '/echo': 1 }, cluster: { nodes: 3, connections: 4, broker: 'up' } })
})

t.test('a node whose app closes leaves the totals at once (nodeDown), also when the app quits its client in onClose', async (t) => {
  const redis = await startRedis(t)
  const long = { timeout: 5000 }
  const a = await clusterApp(t, redis.port, 'a', long)
  // The usual shape of an application: it closes its own Redis client when the app closes.
  const client = redisClient(t, redis.port)
  const b = Fastify()
  await b.register(heartbeat, { cluster: { redis: client, node: 'b', interval, ...long } })
  b.addHook('onClose', async () => { await client.quit() })
  b.get('/echo', { websocket: true }, () => {})
  await b.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => b.close())
  await until(() => a.app.wsConnections.cluster!.stats().nodes === 2, 5000, 'a sees b')
  await connect(t, `ws://127.0.0.1:${(b.server.address() as AddressInfo).port}/echo`)
  await until(() => a.app.wsConnections.cluster!.stats().connections === 1, 2000, 'b counted')
  const closedAt = Date.now()
  await b.close()
  await until(() => a.events.some((e) => e.event === 'nodeDown' && e.node === 'b'), 6000, 'nodeDown b')
  const down = a.events.find((e) => e.event === 'nodeDown')!
  t.ok(down.at - closedAt < 1000, `nodeDown ${down.at - closedAt} ms after close began (expiry would take ${long.timeout - interval} ms or more)`)
  t.same(a.app.wsConnections.cluster!.stats(), { nodes: 1, connections: 0, routes: {}, broker: 'up' })
})

t.test('publish: text stays text, binary stays binary, route filter, on every node', async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a', RELAXED)
  const b = await clusterApp(t, redis.port, 'b', RELAXED)
  await untilNodes([a, b], 2)
  const onA = await connect(t, `${a.url}/chat`)
  const onB = await connect(t, `${b.url}/chat`)
  const echoB = await connect(t, `${b.url}/echo`)
  const got = new Map<WebSocket, Array<[string, boolean]>>()
  for (const ws of [onA, onB, echoB]) {
    const list: Array<[string, boolean]> = []
    got.set(ws, list)
    ws.on('message', (data: Buffer, isBinary) => list.push([isBinary ? data.toString('hex') : data.toString(), isBinary]))
  }
  await a.app.wsConnections.publish('héllo', { route: '/chat' })
  await a.app.wsConnections.publish(Buffer.from([0, 255, 1]), { route: '/chat' })
  await a.app.wsConnections.publish(new Uint8Array([7, 8]).buffer)
  await until(() => got.get(onB)!.length === 3 && got.get(echoB)!.length === 1, 2000, 'delivery on b')
  t.same(got.get(onA), [['héllo', false], ['00ff01', true], ['0708', true]], 'this node at once')
  t.same(got.get(onB), [['héllo', false], ['00ff01', true], ['0708', true]], 'other node, same kinds')
  t.same(got.get(echoB), [['0708', true]], 'route filter: /echo only got the unrouted message')

  // Large binary, byte for byte.
  const big = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
  const large = once<[Buffer, boolean]>(onB, 'message')
  await a.app.wsConnections.publish(big, { route: '/chat' })
  const [data, isBinary] = await large
  t.ok(isBinary && data.equals(big), '1 MiB binary intact')
})

t.test('messages published by one node reach the others in publish order', async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a', RELAXED)
  const b = await clusterApp(t, redis.port, 'b', RELAXED)
  const c = await clusterApp(t, redis.port, 'c', RELAXED)
  await untilNodes([a, b, c], 3)
  const onB = collect(await connect(t, `${b.url}/chat`))
  const onC = collect(await connect(t, `${c.url}/chat`))
  const sent: string[] = []
  const all: Array<Promise<void>> = []
  for (let i = 0; i < 500; i++) {
    sent.push(String(i))
    all.push(a.app.wsConnections.publish(String(i)))
  }
  await Promise.all(all)
  await until(() => onB.length === 500 && onC.length === 500, 5000, 'all delivered')
  t.same(onB, sent)
  t.same(onC, sent)
})

t.test('cluster cap: 503 with retry-after and health full from the other nodes\' counts', async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a', { ...RELAXED, maxConnections: 2 })
  const b = await clusterApp(t, redis.port, 'b', { ...RELAXED, maxConnections: 2 })
  await untilNodes([a, b], 2)
  await connect(t, `${b.url}/echo`)
  await connect(t, `${b.url}/echo`)
  await until(() => a.app.wsConnections.cluster!.stats().connections === 2, 2000, 'b counted on a')
  const res = await fetch(`http://127.0.0.1:${a.port}/health/ws`)
  t.equal(res.status, 503)
  t.match(await res.json(), { status: 'full', connections: 0, cluster: { nodes: 2, connections: 2 } })
  const refused = await new Promise<{ status?: number, retryAfter?: string }>((resolve) => {
    const ws = new WebSocket(`${a.url}/echo`)
    ws.on('unexpected-response', (_req, r) => { resolve({ status: r.statusCode, retryAfter: r.headers['retry-after'] }); ws.terminate() })
    ws.on('open', () => { resolve({}); ws.terminate() })
    ws.on('error', () => {})
  })
  t.equal(refused.status, 503)
  t.ok(Number(refused.retryAfter) > 0, 'retry-after in seconds')
  t.equal(a.app.wsConnections.size, 0)
})

t.test('a listener that throws on nodeUp is logged, cluster keeps working', async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a', RELAXED)
  a.app.wsConnections.on('nodeUp', () => { throw new Error('listener bug') })
  const b = await clusterApp(t, redis.port, 'b', RELAXED)
  await untilNodes([a, b], 2)
  const onA = collect(await connect(t, `${a.url}/chat`))
  await b.app.wsConnections.publish('after')
  await until(() => onA.length === 1, 2000, 'publish still delivered')
  await sleep(interval)
  t.equal(a.app.wsConnections.cluster!.stats().nodes, 2)
})
