import t from 'tap'
import { randomBytes } from 'node:crypto'
import { fanout } from '../lib/fanout.js'
import { once, until } from './helpers/index.js'
import { broadcastApp, pair, text } from './helpers/fanout.js'

t.setTimeout(30_000)

t.test('text and binary of every size class arrive intact, in order, with their type', async (t) => {
  const { app, url } = await broadcastApp(t)
  const peers = [await pair(t, app, url), await pair(t, app, url), await pair(t, app, url)]
  const big = randomBytes(70_000) // 64-bit length field
  const mid = 'é'.repeat(100) // 200 bytes: 16-bit length field, multi-byte UTF-8
  const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4)
  const messages: Array<Parameters<typeof fanout>[1]> = ['hello', Buffer.from([0, 1, 2]), mid, big, view, new Uint8Array([7, 8]).buffer, 42, '']
  for (const m of messages) t.equal(fanout(app.websocketServer.clients, m), 3)
  t.equal(fanout(app.websocketServer.clients, 'as binary', { binary: true }), 3)
  await until(() => peers.every((p) => p.got.length === messages.length + 1), 5000, 'every message')
  for (const { got } of peers) {
    t.same(text(got.slice(0, 3)), ['t:hello', 'b:\u0000\u0001\u0002', 't:' + mid])
    t.ok(got[3].binary && got[3].data.equals(big), '70 000-byte binary intact')
    t.same([...got[4].data], [1, 2, 3], 'only the view, not its whole buffer')
    t.same([...got[5].data], [7, 8])
    t.same(text(got.slice(6)), ['t:42', 't:', 'b:as binary'])
  }
})

t.test('a broadcast keeps its place among the application\'s own sends on the same socket', async (t) => {
  const { app, url } = await broadcastApp(t)
  const a = await pair(t, app, url)
  const b = await pair(t, app, url)
  a.server.send('a1')
  fanout(app.websocketServer.clients, 'all1')
  a.server.send('a2')
  b.server.send('b1')
  fanout(app.websocketServer.clients, 'all2')
  await until(() => a.got.length === 4 && b.got.length === 3)
  t.same(text(a.got), ['t:a1', 't:all1', 't:a2', 't:all2'])
  t.same(text(b.got), ['t:all1', 't:b1', 't:all2'])
})

t.test('a permessage-deflate peer in the set gets correct messages, in order behind a send still deflating', async (t) => {
  const { app, url } = await broadcastApp(t, { websocket: { options: { perMessageDeflate: { threshold: 0 } } } })
  const plain = await pair(t, app, url, { perMessageDeflate: false })
  const deflate = await pair(t, app, url, { perMessageDeflate: true })
  t.ok((deflate.server as any)._extensions['permessage-deflate'], 'deflate negotiated')
  t.notOk((plain.server as any)._extensions['permessage-deflate'], 'not on the plain peer')
  // Compression is asynchronous: this send is still deflating when the broadcast comes.
  const large = 'x'.repeat(200_000)
  deflate.server.send(large)
  t.equal(fanout(app.websocketServer.clients, 'broadcast 1'), 2)
  t.equal(fanout(app.websocketServer.clients, Buffer.from('broadcast 2')), 2)
  await until(() => deflate.got.length === 3 && plain.got.length === 2)
  t.same(text(deflate.got), ['t:' + large, 't:broadcast 1', 'b:broadcast 2'])
  t.same(text(plain.got), ['t:broadcast 1', 'b:broadcast 2'])
  t.ok((deflate.client as any)._socket.bytesRead < 10_000, 'the deflate peer was sent compressed frames')
})

t.test('CONNECTING, CLOSING and filtered-out sockets are not sent to and not counted', async (t) => {
  const { app, url } = await broadcastApp(t)
  const a = await pair(t, app, url)
  const b = await pair(t, app, url)
  const c = await pair(t, app, url)
  b.server.close(1000, 'bye')
  t.equal(b.server.readyState, b.server.CLOSING)
  const seen: unknown[] = []
  const sent = fanout(app.websocketServer.clients, 'm', { filter: (s) => { seen.push(s); return s !== c.server } })
  t.equal(sent, 1)
  t.same(seen.length, 2, 'filter asked only about OPEN sockets')
  const [code] = await once<[number]>(b.client, 'close')
  t.equal(code, 1000)
  await until(() => a.got.length === 1)
  t.same(text(a.got), ['t:m'])
  t.same(b.got, [], 'the closing socket got nothing after its close frame')
  t.same(c.got, [])
})

t.test('backpressure: a socket at or over maxBackpressure is skipped, or closed with 1013', async (t) => {
  const { app, url } = await broadcastApp(t)
  const a = await pair(t, app, url)
  const b = await pair(t, app, url)
  // A Blob is read asynchronously: until then its bytes count in bufferedAmount.
  b.server.send(new Blob(['y'.repeat(1000)]))
  t.equal(b.server.bufferedAmount, 1000)
  const skipped: unknown[] = []
  t.equal(fanout(app.websocketServer.clients, 'under', { maxBackpressure: 1001, onSkip: (s) => skipped.push(s) }), 2)
  t.equal(fanout(app.websocketServer.clients, 'at', { maxBackpressure: 1000, onSkip: (s) => skipped.push(s) }), 1)
  t.same(skipped, [b.server])
  await until(() => a.got.length === 2 && b.got.length === 2)
  t.same(text(b.got), ['b:' + 'y'.repeat(1000), 't:under'], 'the broadcast waited behind the Blob')

  b.server.send(new Blob(['z'.repeat(500)]))
  const closed: unknown[] = []
  t.equal(fanout(app.websocketServer.clients, 'last', { maxBackpressure: 500, closeOnBackpressureLimit: true, onSkip: (s) => closed.push(s) }), 1)
  t.same(closed, [b.server])
  const [code, reason] = await once<[number, Buffer]>(b.client, 'close')
  t.equal(code, 1013)
  t.equal(reason.toString(), 'backpressure limit')
  await until(() => a.got.length === 3)
  t.same(text(a.got), ['t:under', 't:at', 't:last'])
})

t.test('targets other than sockets: socketOf maps them, filter and onSkip get the target', async (t) => {
  const { app, url } = await broadcastApp(t)
  await pair(t, app, url)
  await pair(t, app, url)
  const sent = fanout(app.wsConnections, 'x', { socketOf: (conn) => conn.socket, filter: (conn) => conn.route === '/bc' })
  t.equal(sent, 2)
})
