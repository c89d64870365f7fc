import t from 'tap'
import { connect, startApp, until } from './helpers/index.js'

t.test('GET /health/ws: 200 ok with counts per route pattern, no-store, no peer details', async (t) => {
  const { app, url, port } = await startApp(t, {}, (app) => {
    app.get('/echo', { websocket: true }, () => {})
    app.get('/chat/:room', { websocket: true, heartbeat: { mode: 'json' } }, () => {})
  })
  let res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store')
  t.match(res.headers.get('content-type'), /application\/json/)
  t.same(await res.json(), { status: 'ok', connections: 0, routes: {} })

  await connect(t, `${url}/echo`)
  await connect(t, `${url}/echo`)
  const c = await connect(t, `${url}/chat/a`)
  res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  const text = await res.text()
  t.same(JSON.parse(text), { status: 'ok', connections: 3, routes: { '/echo': 2, '/chat/:room': 1 } })
  t.notMatch(text, /127\.0\.0\.1/, 'no addresses')
  for (const conn of app.wsConnections) t.notMatch(text, conn.id, 'no ids')

  c.close()
  await until(() => app.wsConnections.size === 2, 2000)
  res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  t.same(await res.json(), { status: 'ok', connections: 2, routes: { '/echo': 2 } })
})

t.test('HEAD /health/ws answers the status without a body', async (t) => {
  const { port } = await startApp(t, {}, () => {})
  const res = await fetch(`http://127.0.0.1:${port}/health/ws`, { method: 'HEAD' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store')
  t.equal(await res.text(), '')
})

t.test('health: { path } moves it; health: false removes it', async (t) => {
  const moved = await startApp(t, { health: { path: '/lb/ws' } }, () => {})
  t.equal((await fetch(`http://127.0.0.1:${moved.port}/lb/ws`)).status, 200)
  t.equal((await fetch(`http://127.0.0.1:${moved.port}/health/ws`)).status, 404)
  const none = await startApp(t, { health: false }, () => {})
  t.equal((await fetch(`http://127.0.0.1:${none.port}/health/ws`)).status, 404)
})

t.test('503 draining from the moment a drain starts, and it stays', async (t) => {
  const { app, url, port } = await startApp(t, { closeTimeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  await connect(t, `${url}/echo`)
  const drained = app.wsConnections.drain({ delay: 200 })
  let res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  t.equal(res.status, 503)
  t.same(await res.json(), { status: 'draining', connections: 1, routes: { '/echo': 1 } })
  await drained
  res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  t.equal(res.status, 503)
  t.same(await res.json(), { status: 'draining', connections: 0, routes: {} })
  t.equal(app.wsConnections.draining, true)
})

t.test('503 full while size >= maxConnections; draining takes precedence', async (t) => {
  const { app, url, port } = await startApp(t, { maxConnections: 1 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/echo`)
  let res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  t.equal(res.status, 503)
  t.same(await res.json(), { status: 'full', connections: 1, routes: { '/echo': 1 } })
  ws.close()
  await until(() => app.wsConnections.size === 0, 2000)
  res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  t.equal(res.status, 200)
  await connect(t, `${url}/echo`)
  app.wsConnections.drain()
  res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  t.equal((await res.json()).status, 'draining')
})
