import t from 'tap'
import { connect, once, sleep, startApp, until } from './helpers/index.js'
import type { WsConnection } from '../lib/index.js'

const interval = 100
const timeout = 150

t.test('a peer that never answers is dropped within interval + timeout, not before timeout', async (t) => {
  const { app, url } = await startApp(t, { interval, timeout, closeTimeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const events: string[] = []
  app.wsConnections.on('timeout', () => events.push('timeout'))
  app.wsConnections.on('disconnect', (_conn, code, reason) => events.push(`disconnect ${code} ${reason}`))
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  const connectedAt = Date.now()
  t.equal(app.wsConnections.size, 1)
  const [code, reason] = await once<[number, Buffer]>(ws, 'close', 3000)
  const elapsed = Date.now() - connectedAt
  t.ok(elapsed >= timeout, `not before timeout (${elapsed} ms)`)
  t.ok(elapsed <= interval + timeout + 60, `within interval + timeout + slack (${elapsed} ms)`)
  t.equal(code, 1011)
  t.equal(reason.toString(), 'heartbeat timeout')
  t.same(events, ['timeout', 'disconnect 1011 heartbeat timeout'])
  t.equal(app.wsConnections.size, 0)
  t.equal(app.wsConnections.stats().timedOut, 1)
})

t.test('a peer that answers stays for 20+ intervals and gets a latency', async (t) => {
  const { app, url } = await startApp(t, { interval: 50, timeout: 60 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  let pings = 0
  const ws = await connect(t, `${url}/echo`)
  ws.on('ping', () => { pings++ })
  await sleep(50 * 22)
  t.equal(ws.readyState, ws.OPEN)
  t.ok(pings >= 18, `pinged ${pings} times`)
  const conn = [...app.wsConnections][0] as WsConnection
  t.type(conn.latency, 'number')
  t.ok((conn.latency as number) >= 0 && (conn.latency as number) < 50)
  t.equal(app.wsConnections.stats().timedOut, 0)
})

t.test('data messages keep a non-ponging peer alive', async (t) => {
  const { app, url } = await startApp(t, { interval, timeout }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  const timer = setInterval(() => ws.send('still here'), 40)
  t.teardown(() => clearInterval(timer))
  await sleep(interval * 8)
  t.equal(ws.readyState, ws.OPEN)
  t.equal(app.wsConnections.size, 1)
})

t.test('ping frames from a peer that never answers pings are proof of life too', async (t) => {
  const { app, url } = await startApp(t, { interval, timeout }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  let pongs = 0
  ws.on('pong', () => { pongs++ })
  const pinger = setInterval(() => ws.ping(), 40)
  t.teardown(() => clearInterval(pinger))
  await sleep(interval * 8)
  t.equal(ws.readyState, ws.OPEN)
  t.equal(app.wsConnections.stats().timedOut, 0)
  t.ok(pongs > 0, 'the server answers ping frames')
})

t.test('a dead socket that ignores the close frame is destroyed after closeTimeout', async (t) => {
  const { app, url } = await startApp(t, { interval, timeout, closeTimeout: 100 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  const [conn] = await once<[WsConnection]>(app.wsConnections, 'timeout', 2000)
  const deadAt = Date.now()
  t.equal(app.wsConnections.size, 0, 'removed from the counts at once')
  // Stop reading: the client never answers the close frame.
  ;(ws as any)._socket.pause()
  await once(conn.socket, 'close', 2000)
  const elapsed = Date.now() - deadAt
  t.ok(elapsed <= 100 + 60, `destroyed within closeTimeout (${elapsed} ms)`)
})

t.test('heartbeat: false routes are tracked and never pinged', async (t) => {
  const { app, url } = await startApp(t, { interval: 50, timeout: 50 }, (app) => {
    app.get('/raw', { websocket: true, heartbeat: false }, () => {})
  })
  let pings = 0
  const ws = await connect(t, `${url}/raw`, { autoPong: false })
  ws.on('ping', () => { pings++ })
  await sleep(400)
  t.equal(pings, 0)
  t.equal(ws.readyState, ws.OPEN)
  t.equal(app.wsConnections.count('/raw'), 1)
  t.equal([...app.wsConnections][0]?.mode, 'off')
})

t.test('counts per route pattern and untracking on close', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/room/:id', { websocket: true }, () => {})
    app.get('/echo', { websocket: true }, () => {})
  })
  const a = await connect(t, `${url}/room/1`)
  await connect(t, `${url}/room/2`)
  await connect(t, `${url}/echo`)
  t.equal(app.wsConnections.size, 3)
  t.equal(app.wsConnections.count('/room/:id'), 2)
  t.same(app.wsConnections.stats().routes, { '/room/:id': 2, '/echo': 1 })
  a.close()
  await until(() => app.wsConnections.count('/room/:id') === 1, 2000)
  t.same(app.wsConnections.stats().routes, { '/room/:id': 1, '/echo': 1 })
})
