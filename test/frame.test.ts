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

t.test('timeout shorter than interval: the verdict comes timeout after the ping, not at the next heartbeat', async (t) => {
  const { app, url } = await startApp(t, { interval: 400, timeout: 100, closeTimeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  let pingAt = 0
  ws.once('ping', () => { pingAt = Date.now() })
  await once(app.wsConnections, 'timeout', 3000)
  const after = Date.now() - pingAt
  t.ok(pingAt > 0, 'the peer saw the ping')
  t.ok(after >= 100 - 5, `not before timeout (${after} ms after the ping)`)
  t.ok(after <= 100 + 60, `timeout after the ping, well before the next heartbeat at 400 (${after} ms)`)
})

t.test('a dead peer on a socket the application is closing is still declared dead', async (t) => {
  // The peer's pongs and close frames are dropped: a ws client whose socket stops reading.
  const { app, url } = await startApp(t, { interval: 100, timeout: 150, closeTimeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  const conn = [...app.wsConnections][0] as WsConnection
  await once(ws, 'ping', 1000)
  // Freeze the peer: nothing it sends reaches the server any more, and it answers nothing.
  const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket
  raw.pause()
  raw.write = () => true
  const closedAt = Date.now()
  conn.socket.close(1000, 'bye')
  t.equal(conn.socket.readyState, conn.socket.CLOSING)
  await once(app.wsConnections, 'timeout', 3000)
  const elapsed = Date.now() - closedAt
  t.ok(elapsed <= 100 + 150 + 60, `dropped within interval + timeout of the close (${elapsed} ms)`)
  t.equal(app.wsConnections.size, 0)
  raw.destroy()
})

t.test('timeout over twice the interval: a late answer, then silence, is judged timeout after that answer', async (t) => {
  // A verdict queued for an older ping must not judge the newer ping sent after the answer.
  const { app, url } = await startApp(t, { interval: 100, timeout: 250, closeTimeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  let answeredAt = 0
  ws.once('ping', () => {
    // Answer the first heartbeat late (after the next one is due), then never again.
    setTimeout(() => { answeredAt = Date.now(); ws.pong() }, 150)
  })
  await once(app.wsConnections, 'timeout', 3000)
  const after = Date.now() - answeredAt
  t.ok(answeredAt > 0, 'the peer answered once')
  t.ok(after >= 250 - 5, `not before timeout after the last proof of life (${after} ms)`)
  t.ok(after <= 100 + 250 + 60, `within interval + timeout of it (${after} ms)`)
})

for (const [step, label] of [[3_600_000, 'forward'], [-3_600_000, 'back']] as const) {
  t.test(`an hour's step of the wall clock ${label} neither kills a live peer nor hides a dead one`, async (t) => {
    const { app, url } = await startApp(t, { interval: 100, timeout: 150, closeTimeout: 200 }, (app) => {
      app.get('/echo', { websocket: true }, () => {})
    })
    await connect(t, `${url}/echo`)
    await connect(t, `${url}/echo`, { autoPong: false })
    const realNow = Date.now
    t.teardown(() => { Date.now = realNow })
    // An NTP correction or a resumed VM: the heartbeat timeline runs on the monotonic clock.
    Date.now = () => realNow() + step
    const start = performance.now()
    const [dead] = await once<[WsConnection]>(app.wsConnections, 'timeout', 2000)
    const elapsed = performance.now() - start
    t.ok(elapsed <= 100 + 150 + 60, `the silent peer dropped within interval + timeout (${Math.round(elapsed)} ms)`)
    await sleep(500)
    t.equal(app.wsConnections.size, 1, 'the answering peer is still there')
    t.equal(app.wsConnections.stats().timedOut, 1)
    t.not([...app.wsConnections][0], dead)
  })
}

// Contract section 2: proof of life is any inbound frame (a pong, a ping or a data
// message), and `lastSeen` is the last one. A route without heartbeats, so that only
// the peer's own frames can move it.
t.test('lastSeen follows each kind of inbound frame: ping, pong, data message', { timeout: 10000 }, async (t) => {
  const { app, url } = await startApp(t, { interval, timeout, mode: 'off' }, (app) => {
    app.get('/quiet', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/quiet`)
  await until(() => app.wsConnections.size === 1, 2000)
  const conn = [...app.wsConnections][0]
  const frames: Array<[string, () => void]> = [
    ['ping', () => ws.ping()],
    ['pong', () => ws.pong()],
    ['text message', () => ws.send('hi')],
    ['binary message', () => ws.send(Buffer.from([1, 2, 3]))]
  ]
  for (const [kind, send] of frames) {
    await sleep(30)
    const before = conn.lastSeen
    send()
    await until(() => conn.lastSeen > before, 2000, `lastSeen moved by a ${kind}`)
    t.pass(`a ${kind} moved lastSeen`)
  }
})
