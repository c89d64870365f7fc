import t, { type Test } from 'tap'
import WebSocket from 'ws'
import type { Socket } from 'node:net'
import { connect, startApp, until } from './helpers/index.js'

// A reader that stops reading: its server socket's bufferedAmount climbs past the limit.
async function stalledReader (t: Tap, url: string): Promise<WebSocket> {
  const ws = await connect(t, url)
  ;(ws as unknown as { _socket: Socket })._socket.pause()
  return ws
}
type Tap = Test
const BIG = Buffer.alloc(4 * 1024 * 1024, 1)

t.test('broadcast skips sockets at or over maxBackpressure and counts them', { timeout: 20000 }, async (t) => {
  const { app, url } = await startApp(t, { maxBackpressure: 64 * 1024 }, (app) => {
    app.get('/', { websocket: true }, () => {})
  })
  const reader = await connect(t, url)
  const got: number[] = []
  reader.on('message', (data: Buffer) => got.push(data.length))
  await until(() => app.wsConnections.size === 1, 2000)
  const reading = [...app.wsConnections][0]
  await stalledReader(t, url)
  await until(() => app.wsConnections.size === 2, 2000)
  const stalled = [...app.wsConnections].find((c) => c !== reading)
  if (stalled === undefined) throw new Error('no stalled connection')
  // Fill the stalled socket's buffers (the kernel takes some megabytes first).
  while (stalled.socket.bufferedAmount < 64 * 1024) stalled.socket.send(BIG)
  t.equal(app.wsConnections.broadcast('first'), 1, 'sent to the reading socket only')
  t.equal(app.wsConnections.stats().broadcastSkipped, 1, 'the stalled one skipped and counted')
  await until(() => got.length === 1 && reading.socket.bufferedAmount === 0, 2000, 'the reader got it')
  t.equal(app.wsConnections.broadcast('second', { filter: (c) => c === stalled }), 0, 'a filter runs before the limit')
  t.equal(app.wsConnections.stats().broadcastSkipped, 2)
  t.equal(app.wsConnections.broadcast('third', { filter: (c) => c !== stalled }), 1, 'a filtered-out socket is not counted as skipped')
  t.equal(app.wsConnections.stats().broadcastSkipped, 2)
  const before = stalled.socket.bufferedAmount
  stalled.socket.send('the application can still send')
  t.ok(stalled.socket.bufferedAmount > before, 'the application\'s own send is never touched')
  t.equal(stalled.socket.readyState, WebSocket.OPEN, 'skipping does not close')
})

t.test('closeOnBackpressureLimit closes such sockets with 1013', { timeout: 20000 }, async (t) => {
  const { app, url } = await startApp(t, { maxBackpressure: 64 * 1024, closeOnBackpressureLimit: true, closeTimeout: 200 }, (app) => {
    app.get('/', { websocket: true }, () => {})
  })
  const disconnects: Array<[number, string]> = []
  app.wsConnections.on('disconnect', (_c, code, reason) => disconnects.push([code, reason]))
  await stalledReader(t, url)
  await until(() => app.wsConnections.size === 1, 2000)
  const conn = [...app.wsConnections][0]
  while (conn.socket.bufferedAmount < 64 * 1024) conn.socket.send(BIG)
  const n = app.wsConnections.broadcast('x')
  t.equal(n, 0)
  t.equal(app.wsConnections.stats().broadcastSkipped, 1)
  t.equal(conn.socket.readyState, WebSocket.CLOSING, 'close frame queued')
  await until(() => app.wsConnections.size === 0, 2000, 'destroyed after closeTimeout (the peer reads nothing)')
  t.same(disconnects, [[1006, '']], 'the stalled peer never answered the close frame')
})

t.test('maxBackpressure and closeOnBackpressureLimit are validated', async (t) => {
  for (const [opts, name] of [
    [{ maxBackpressure: 0 }, 'maxBackpressure'],
    [{ maxBackpressure: 1.5 }, 'maxBackpressure'],
    [{ maxBackpressure: '1' }, 'maxBackpressure'],
    [{ closeOnBackpressureLimit: 'yes' }, 'closeOnBackpressureLimit']
  ] as const) {
    await t.rejects(startApp(t, opts as never, () => {}), { code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION', message: new RegExp(`"${name}"`) })
  }
  const { app } = await startApp(t, { maxBackpressure: Infinity }, () => {})
  t.equal(app.wsConnections.stats().broadcastSkipped, 0)
})
