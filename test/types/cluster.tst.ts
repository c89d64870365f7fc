import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import Redis from 'ioredis'
import heartbeat, { type WsCluster, type WsClusterNode, type WsClusterStats, type FastifyWsHeartbeatOptions } from '../../lib/index.js'

const app = Fastify()
const redis = new Redis()

test('cluster option', () => {
  expect(app.register).type.toBeCallableWith(heartbeat, { cluster: { redis } })
  expect(app.register).type.toBeCallableWith(heartbeat, {
    cluster: { redis, prefix: 'p', node: 'n1', interval: 1000, timeout: 3000, maxConnections: 100 }
  })
  expect<FastifyWsHeartbeatOptions>().type.not.toBeAssignableFrom({ cluster: {} })
  expect<FastifyWsHeartbeatOptions>().type.not.toBeAssignableFrom({ cluster: { redis: {} } })
  expect<FastifyWsHeartbeatOptions>().type.not.toBeAssignableFrom({ cluster: { redis, interval: '1s' } })
})

test('app.wsConnections.cluster and publish', () => {
  expect(app.wsConnections.cluster).type.toBe<WsCluster | null>()
  const cluster = app.wsConnections.cluster!
  expect(cluster.node).type.toBe<string>()
  expect(cluster.stats()).type.toBe<WsClusterStats>()
  expect(cluster.stats().broker).type.toBe<'up' | 'down'>()
  expect(cluster.nodes()).type.toBe<WsClusterNode[]>()
  expect(app.wsConnections.publish('x', { route: '/chat' })).type.toBe<Promise<void>>()
  expect(app.wsConnections.publish).type.toBeCallableWith(Buffer.from('x'))
  expect(app.wsConnections.publish).type.toBeCallableWith(new Uint8Array(1))
  expect(app.wsConnections.publish).type.not.toBeCallableWith({ a: 1 })
  expect(app.wsConnections.publish).type.not.toBeCallableWith('x', { filter: () => true })
})

test('nodeUp / nodeDown', () => {
  app.wsConnections.on('nodeUp', (node) => { expect(node).type.toBe<string>() })
  app.wsConnections.on('nodeDown', (node) => { expect(node).type.toBe<string>() })
})
