import t from 'tap'
import { connect, once, sleep, startApp } from './helpers/index.js'

const interval = 100
const timeout = 150

t.test('traffic both ways replaces heartbeats, and the bound still holds when the peer stops', { timeout: 10_000 }, async (t) => {
  const { app, url } = await startApp(t, { interval, timeout }, (app) => {
    app.get('/echo', { websocket: true }, (socket) => {
      socket.on('message', (data) => socket.send(data))
    })
  })
  const ws = await connect(t, `${url}/echo`, { autoPong: false })
  let pings = 0
  ws.on('ping', () => { pings++ })
  const chatter = setInterval(() => ws.send('x'), 20)
  t.teardown(() => clearInterval(chatter))
  await sleep(interval * 10)
  // Without the rule this would be ~10 pings; a loaded machine may leave a gap now and then.
  t.ok(pings <= 2, `${pings} heartbeats while data flowed both ways`)
  t.equal(app.wsConnections.size, 1)

  clearInterval(chatter)
  const silentAt = Date.now()
  const [code] = await once<[number]>(ws, 'close', 3000)
  const elapsed = Date.now() - silentAt
  t.equal(code, 1011)
  t.ok(elapsed >= timeout, `not before timeout (${elapsed} ms)`)
  t.ok(elapsed <= interval + timeout + 60, `within interval + timeout after going silent (${elapsed} ms)`)
  t.ok(pings >= 1, 'pinged once silent')
})

t.test('inbound data alone does not replace heartbeats', { timeout: 10_000 }, async (t) => {
  const { url } = await startApp(t, { interval, timeout }, (app) => {
    app.get('/sink', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/sink`)
  let pings = 0
  ws.on('ping', () => { pings++ })
  const chatter = setInterval(() => ws.send('x'), 20)
  t.teardown(() => clearInterval(chatter))
  await sleep(interval * 6)
  t.ok(pings >= 4, `pinged ${pings} times: the server sent nothing else`)
})

t.test('broadcast() is application traffic for the skip rule, like socket.send()', { timeout: 10_000 }, async (t) => {
  const { app, url } = await startApp(t, { interval, timeout }, (app) => {
    app.get('/room', { websocket: true }, () => {})
  })
  const ws = await connect(t, `${url}/room`, { autoPong: false })
  let pings = 0
  ws.on('ping', () => { pings++ })
  // The peer talks, the server answers only through broadcast() (the pre-framed path).
  const chatter = setInterval(() => {
    ws.send('x')
    app.wsConnections.broadcast('y')
  }, 20)
  t.teardown(() => clearInterval(chatter))
  await sleep(interval * 10)
  t.ok(pings <= 2, `${pings} heartbeats while data flowed both ways`)
  t.equal(app.wsConnections.size, 1)
})
