import t from 'tap'
import WebSocket from 'ws'
import { connect, sleep, startApp, until } from './helpers/index.js'

t.test('await conn.ping() resolves with the round trip and updates latency (frame, json and off routes)', { timeout: 10000 }, async (t) => {
  const { app, url } = await startApp(t, { interval: 60_000, timeout: 500 }, (app) => {
    app.get('/frame', { websocket: true }, () => {})
    app.get('/json', { websocket: true, heartbeat: { mode: 'json' } }, () => {})
    app.get('/off', { websocket: true, heartbeat: false }, () => {})
  })
  const json = await connect(t, `${url}/json`)
  json.on('message', (data) => {
    const msg = JSON.parse(data.toString())
    if (msg.type === 'ping') setTimeout(() => json.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp })), 30)
  })
  await connect(t, `${url}/frame`)
  await connect(t, `${url}/off`)
  await until(() => app.wsConnections.size === 3, 2000)
  for (const conn of app.wsConnections) {
    t.equal(conn.latency, null, `${conn.route}: no latency before`)
    const rtt = await conn.ping()
    t.type(rtt, 'number')
    t.ok(rtt >= 0 && rtt < 300, `${conn.route}: round trip ${rtt} ms`)
    if (conn.route === '/json') t.ok(rtt >= 25, 'the json answer came 30 ms later')
    t.equal(conn.latency, rtt, `${conn.route}: latency updated`)
  }
  t.equal(app.wsConnections.stats().timedOut, 0)
})

t.test('conn.ping() rejects when no answer comes within timeout, and never kills by itself', { timeout: 10000 }, async (t) => {
  const { app, url } = await startApp(t, { interval: 60_000, timeout: 200 }, (app) => {
    app.get('/', { websocket: true }, () => {})
    app.get('/off', { websocket: true, heartbeat: false }, () => {})
  })
  const ws = await connect(t, url, { autoPong: false })
  await connect(t, `${url}/off`, { autoPong: false })
  await until(() => app.wsConnections.size === 2, 2000)
  for (const conn of app.wsConnections) {
    const at = Date.now()
    await t.rejects(conn.ping(), /no answer within 200 ms/, `${conn.route}: rejected`)
    const took = Date.now() - at
    t.ok(took >= 195 && took < 450, `${conn.route}: rejected after ${took} ms (the route's timeout, or the plugin's on an off route)`)
  }
  await sleep(100)
  t.equal(ws.readyState, WebSocket.OPEN, 'still open')
  t.equal(app.wsConnections.size, 2)
  t.equal(app.wsConnections.stats().timedOut, 0)
})

t.test('conn.ping() rejects when the connection closes first, or is already closed', { timeout: 10000 }, async (t) => {
  const { app, url } = await startApp(t, { interval: 60_000, timeout: 2000, closeTimeout: 200 }, (app) => {
    app.get('/', { websocket: true }, () => {})
  })
  const ws = await connect(t, url, { autoPong: false })
  await until(() => app.wsConnections.size === 1, 2000)
  const conn = [...app.wsConnections][0]
  const pending = conn.ping()
  ws.close()
  await t.rejects(pending, /closed/)
  await until(() => app.wsConnections.size === 0, 1000)
  await t.rejects(conn.ping(), /closed/)
})
