import Fastify from 'fastify'
import { Registry, register } from 'prom-client'
import { expect, test } from 'tstyche'
import heartbeat, { type FastifyWsHeartbeatOptions, type MetricsOptions, type MetricsRegistry } from '../../lib/index.js'

const app = Fastify()

test('metrics option', () => {
  expect(app.register).type.toBeCallableWith(heartbeat, { metrics: true })
  expect(app.register).type.toBeCallableWith(heartbeat, { metrics: false })
  expect(app.register).type.toBeCallableWith(heartbeat, { metrics: { registry: new Registry(), prefix: 'ws_' } })
  expect(app.register).type.toBeCallableWith(heartbeat, { metrics: { registry: register } })
  expect(app.register).type.toBeCallableWith(heartbeat, { metrics: { prefix: 'edge_' } })
  expect<FastifyWsHeartbeatOptions>().type.not.toBeAssignableFrom({ metrics: 'yes' })
  expect<FastifyWsHeartbeatOptions>().type.not.toBeAssignableFrom({ metrics: { prefix: 1 } })
  expect<FastifyWsHeartbeatOptions>().type.not.toBeAssignableFrom({ metrics: { registry: {} } })
})

test('a prom-client Registry is a MetricsRegistry', () => {
  expect<MetricsRegistry>().type.toBeAssignableFrom(new Registry())
  expect<MetricsOptions>().type.toBeAssignableFrom({ registry: new Registry(), prefix: 'x_' })
})
