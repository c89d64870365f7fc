import t, { type Test } from 'tap'
import WebSocket from 'ws'
import type { Socket } from 'node:net'
import { connect, startApp, until } from './helpers/index.js'

// The application sends a large message to a slow reader; the heartbeat queues behind it
// and its answer cannot come before the reader reaches it. Data leaving the process after
// the heartbeat proves that the peer is reading (contract section 2).
const interval = 100
const timeout = 300
const SIZE = 32 * 1024 * 1024

async function bigSender (t: Tap) {
  const { app, url } = await startApp(t, { interval, timeout, closeTimeout: 200 }, (app) => {
    app.get('/', { websocket: true }, (socket) => {
      socket.on('message', () => socket.send(Buffer.alloc(SIZE, 7)))
    })
  })
  return { app, url }
}
type Tap = Test

t.test('a heartbeat queued behind a large send to a slow reader that keeps reading: no false death', { timeout: 30000 }, async (t) => {
  const { app, url } = await bigSender(t)
  const ws = await connect(t, url, { maxPayload: 2 * SIZE })
  const tcp = (ws as unknown as { _socket: Socket })._socket
  let received = 0
  let receivedAt = 0
  ws.on('message', (data: Buffer) => { received = data.length; receivedAt = Date.now() })
  const closes: number[] = []
  ws.on('close', (code) => closes.push(code))
  await until(() => app.wsConnections.size === 1, 2000)
  const startedAt = Date.now()
  ws.send('go')
  // Read in short bursts: about 16 bursts a second.
  tcp.pause()
  const reader = setInterval(() => { tcp.resume(); setImmediate(() => tcp.pause()) }, 60)
  t.teardown(() => clearInterval(reader))
  await until(() => received === SIZE || closes.length > 0, 25000, 'message received or closed')
  clearInterval(reader)
  tcp.resume()
  const took = receivedAt - startedAt
  t.comment(`the ${SIZE / 1024 / 1024} MB message took ${took} ms to read (interval ${interval}, timeout ${timeout})`)
  t.same(closes, [], 'not closed')
  t.equal(received, SIZE)
  t.ok(took > interval + timeout + 200, `reading took longer than interval + timeout (${took} ms): the test exercises the rule`)
  t.equal(app.wsConnections.stats().timedOut, 0, 'never declared dead')
  await until(() => [...app.wsConnections][0]?.latency !== null, 2000, 'the queued heartbeats are answered')
})

t.test('a peer that reads nothing behind a large send is still dead within interval + timeout', { timeout: 10000 }, async (t) => {
  const { app, url } = await bigSender(t)
  const ws = await connect(t, url, { maxPayload: 2 * SIZE })
  const tcp = (ws as unknown as { _socket: Socket })._socket
  await until(() => app.wsConnections.size === 1, 2000)
  ws.send('go')
  // ws.send leaves before the socket is paused; nothing is read after this point.
  await new Promise((resolve) => setTimeout(resolve, 5))
  tcp.pause()
  const silentAt = Date.now()
  await until(() => app.wsConnections.stats().timedOut === 1, interval + timeout + 1000, 'declared dead')
  const took = Date.now() - silentAt
  t.ok(took <= interval + timeout + 100, `dead ${took} ms after it stopped reading (bound ${interval + timeout})`)
  t.equal(ws.readyState, WebSocket.OPEN, 'the client itself saw nothing yet')
})
