import t from 'tap'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import heartbeat from '../lib/index.js'
import { connect, logLines, until } from './helpers/index.js'
import type { AddressInfo } from 'node:net'

t.test('a websocket route declared before the plugin: a warning naming the route, on its first connection at the latest', { timeout: 10000 }, async (t) => {
  const { lines, stream } = logLines()
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(websocket)
  app.get('/early/a', { websocket: true }, () => {})
  await app.register(heartbeat)
  app.get('/late', { websocket: true }, () => {})
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  await connect(t, `${url}/early/a`)
  await connect(t, `${url}/late`)
  await until(() => lines.some((l) => l.includes('/early/a')), 2000, 'warning naming the route')
  const warning = JSON.parse(lines.find((l) => l.includes('/early/a')) as string)
  t.equal(warning.level, 40, 'a warning')
  t.match(warning.msg, /before/, 'says why')
  t.equal(app.wsConnections.size, 1, 'only the route declared after the plugin is tracked')
  t.equal(app.wsConnections.count('/late'), 1)
  t.notOk(lines.some((l) => l.includes('"/late"')), 'no warning for the tracked route')
})

t.test('@fastify/websocket registered after the plugin fails with an error that says to register it first', { timeout: 10000 }, async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(heartbeat)
  await t.rejects(async () => { await app.register(websocket) }, {
    code: 'FST_ERR_WS_HEARTBEAT_REGISTRATION_ORDER',
    message: /register @fastify\/websocket before fastify-ws-heartbeat/
  })
})

t.test('registering @fastify/websocket first, then the plugin, still works', { timeout: 10000 }, async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(websocket)
  await app.register(heartbeat)
  await app.ready()
  t.ok(app.wsConnections)
})
