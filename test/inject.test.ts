import t, { type Test } from 'tap'
import Fastify from 'fastify'
import heartbeat from '../lib/index.js'
import { once, sleep, until } from './helpers/index.js'

// Fastify's documented way to test websocket routes: the injected client is a `ws`
// WebSocket over an in-memory stream that does not answer ping frames by itself.
const interval = 100
const timeout = 200
const closeTimeout = 200

async function injectApp (t: Tap) {
  const app = Fastify()
  await app.register(heartbeat, { interval, timeout, closeTimeout })
  app.get('/frame', { websocket: true }, (socket) => { socket.on('message', (data) => socket.send(data)) })
  app.get('/json', { websocket: true, heartbeat: { mode: 'json' } }, () => {})
  await app.ready()
  t.teardown(() => app.close())
  const disconnects: number[] = []
  app.wsConnections.on('disconnect', (_conn, code) => { disconnects.push(code) })
  return { app, disconnects }
}
type Tap = Test

t.test('an injected client on a frame route is not declared dead for pings it cannot see', { timeout: 10000 }, async (t) => {
  const { app } = await injectApp(t)
  const ws = await app.injectWS('/frame')
  t.teardown(() => ws.terminate())
  await sleep(interval + timeout + 300)
  t.equal(app.wsConnections.size, 1, 'still tracked')
  t.equal(app.wsConnections.stats().timedOut, 0)
  t.equal(ws.readyState, ws.OPEN)
  const echo = once<[Buffer]>(ws, 'message', 1000)
  ws.send('hi')
  t.equal((await echo)[0].toString(), 'hi')
})

t.test('an injected client that does not answer json pings is dropped like any other', { timeout: 10000 }, async (t) => {
  const { app } = await injectApp(t)
  const ws = await app.injectWS('/json')
  t.teardown(() => ws.terminate())
  await until(() => app.wsConnections.stats().timedOut === 1, interval + timeout + 1000, 'json peer dropped')
})

for (const how of ['close', 'terminate'] as const) {
  t.test(`an injected client's ${how}() untracks it within closeTimeout`, { timeout: 10000 }, async (t) => {
    const { app, disconnects } = await injectApp(t)
    const ws = await app.injectWS('/frame')
    t.teardown(() => ws.terminate())
    await until(() => app.wsConnections.size === 1, 1000)
    const at = Date.now()
    if (how === 'close') ws.close(1000)
    else ws.terminate()
    await until(() => app.wsConnections.size === 0, closeTimeout + 1000, 'untracked')
    t.ok(Date.now() - at <= closeTimeout + 150, `untracked ${Date.now() - at} ms after ${how}()`)
    t.equal(disconnects.length, 1)
    if (how === 'close') t.equal(disconnects[0], 1000)
  })
}
