import t from 'tap'
import { Registry } from 'prom-client'
import type { Socket } from 'node:net'
import { connect, startApp, until } from '../helpers/index.js'
import { sample } from '../helpers/metrics.js'
import { redisClient, startRedis } from './helpers/redis.js'
import { clusterApp, interval, untilNodes } from './helpers/apps.js'

// `metrics` and `cluster` together: the ws_cluster_* gauges and counter read the cluster.
t.setTimeout(60_000)

t.test('metrics + cluster: ws_cluster_nodes, connections, broker_up, publish_errors_total', async (t) => {
  const redis = await startRedis(t)
  const registry = new Registry()
  const { app, url } = await startApp(t, {
    metrics: { registry },
    cluster: { redis: redisClient(t, redis.port), node: 'a', interval, timeout: 3000 }
  }, (app) => { app.get('/echo', { websocket: true }, () => {}) })
  const b = await clusterApp(t, redis.port, 'b', { timeout: 3000 })
  await untilNodes([{ app, url, port: 0, node: 'a', events: [] }, b], 2)
  await connect(t, url + '/echo')
  await connect(t, `${b.url}/echo`)
  await until(() => app.wsConnections.cluster!.stats().connections === 2, 3000, 'totals')
  t.equal(await sample(registry, 'ws_cluster_nodes'), 2)
  t.equal(await sample(registry, 'ws_cluster_connections'), 2)
  t.equal(await sample(registry, 'ws_cluster_broker_up'), 1)
  t.equal(await sample(registry, 'ws_cluster_publish_errors_total'), 0)

  await redis.kill()
  await until(() => app.wsConnections.cluster!.stats().broker === 'down', 3000, 'broker down')
  await t.rejects(app.wsConnections.publish('x'))
  t.equal(await sample(registry, 'ws_cluster_broker_up'), 0)
  t.equal(await sample(registry, 'ws_cluster_publish_errors_total'), 1)
})

t.test('metrics without cluster: no ws_cluster_* series', async (t) => {
  const registry = new Registry()
  await startApp(t, { metrics: { registry } }, () => {})
  t.equal(await sample(registry, 'ws_cluster_nodes'), undefined)
})

t.test('publish() delivers locally through broadcast(): backpressure rules included', async (t) => {
  const { app, url } = await startApp(t, { maxBackpressure: 64 * 1024 }, (app) => {
    app.get('/', { websocket: true }, () => {})
  })
  const ws = await connect(t, url)
  ;(ws as unknown as { _socket: Socket })._socket.pause()
  await until(() => app.wsConnections.size === 1)
  const [conn] = [...app.wsConnections]
  while (conn.socket.bufferedAmount < 64 * 1024) conn.socket.send(Buffer.alloc(4 * 1024 * 1024, 1))
  const before = conn.socket.bufferedAmount
  await app.wsConnections.publish('x')
  t.equal(app.wsConnections.stats().broadcastSkipped, 1, 'the stalled socket was skipped')
  t.equal(conn.socket.bufferedAmount, before, 'nothing queued for it')
  ws.terminate()
})
