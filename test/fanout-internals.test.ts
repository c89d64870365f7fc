import t from 'tap'
import WebSocket from 'ws'
import { fanout, idleSender, prepare } from '../lib/fanout.js'
import { connect, until } from './helpers/index.js'
import { broadcastApp, pair, text } from './helpers/fanout.js'

// lib/fanout.ts writes pre-built frames through `ws` internals (as engine.io does). These
// tests fail when `ws` changes what the fast path relies on, instead of the fast path
// silently turning into the slow one or, worse, writing out of order.

t.setTimeout(30_000)

t.test('ws internals: the fields the fast path reads exist with the meaning it assumes', async (t) => {
  const { app, url } = await broadcastApp(t)
  const { server } = await pair(t, app, url)
  const ws = server as any
  t.equal(ws._isServer, true)
  t.type(ws._extensions, 'object')
  t.type(ws._sender.sendFrame, 'function')
  t.equal(ws._sender._state, 0, 'an idle Sender is in state 0')
  t.ok(Array.isArray(ws._sender._queue))
  t.equal(ws._sender._firstFragment, true)
  // bufferedAmount is the net.Socket's writable length plus the Sender's queued bytes.
  ws._socket.cork()
  ws._sender._bufferedBytes += 7
  t.equal(server.bufferedAmount, 7)
  ws._sender._bufferedBytes -= 7
  ws._socket.uncork()
})

t.test('plain server sockets take the fast path: no send(), one shared frame through Sender.sendFrame', async (t) => {
  const { app, url } = await broadcastApp(t)
  const peers = [await pair(t, app, url), await pair(t, app, url)]
  const frames: Buffer[][] = []
  for (const { server } of peers) {
    t.not(idleSender(server), null)
    server.send = () => { throw new Error('send() called on the fast path') }
    const sender = (server as any)._sender
    const sendFrame = sender.sendFrame
    sender.sendFrame = function (list: Buffer[], cb?: () => void) {
      frames.push(list)
      return sendFrame.call(this, list, cb)
    }
  }
  t.equal(fanout(app.websocketServer.clients, 'fast'), 2)
  t.equal(frames.length, 2)
  t.equal(frames[0][0], frames[1][0], 'the same frame buffer for both sockets')
  t.same([...frames[0][0]], [0x81, 4, ...Buffer.from('fast')])
  await until(() => peers.every((p) => p.got.length === 1))
  for (const p of peers) t.same(text(p.got), ['t:fast'])
})

t.test('a frame written through Sender.sendFrame counts in bufferedAmount until the socket flushes it', async (t) => {
  const { app, url } = await broadcastApp(t)
  const { server, got } = await pair(t, app, url)
  const net = (server as any)._socket
  net.cork()
  const before = server.bufferedAmount
  fanout([server], 'x'.repeat(100))
  t.equal(server.bufferedAmount - before, 102, '2-byte header + 100 bytes')
  fanout([server], 'y'.repeat(100), { maxBackpressure: before + 102 })
  t.equal(server.bufferedAmount - before, 102, 'the next broadcast was skipped by that count')
  net.uncork()
  await until(() => got.length === 1)
  t.equal(server.bufferedAmount, 0)
})

t.test('a Sender busy reading a Blob makes the broadcast queue behind it (ordering)', async (t) => {
  const { app, url } = await broadcastApp(t)
  const { server, got } = await pair(t, app, url)
  server.send(new Blob(['blob']))
  t.not((server as any)._sender._state, 0, 'the Sender is busy')
  t.equal(idleSender(server), null)
  fanout([server], 'after')
  server.send('own')
  await until(() => got.length === 3)
  t.same(text(got), ['b:blob', 't:after', 't:own'])
})

t.test('inside a fragmented message the broadcast goes through send(), as the plain loop would', async (t) => {
  const { app, url } = await broadcastApp(t)
  const { server, got } = await pair(t, app, url)
  server.send('part-', { fin: false })
  t.equal((server as any)._sender._firstFragment, false)
  t.equal(idleSender(server), null)
  fanout([server], 'end')
  await until(() => got.length === 1)
  t.same(text(got), ['t:part-end'], 'a continuation, never a new message inside the fragmented one')
})

t.test('a client-side socket (frames must be masked) never takes the fast path', async (t) => {
  const { app, url } = await broadcastApp(t)
  const { server } = await pair(t, app, url)
  const client = await connect(t, url)
  t.equal(idleSender(client), null)
  const got: string[] = []
  const other = [...app.websocketServer.clients].find((s) => s !== server) as WebSocket
  other.on('message', (d) => got.push(String(d)))
  t.equal(fanout([client], 'from a client'), 1)
  await until(() => got.length === 1)
  t.same(got, ['from a client'])
})

t.test('prepare: header forms of RFC 6455 5.2', async (t) => {
  const frame = (len: number, binary?: boolean): Buffer => (prepare(Buffer.alloc(len), binary).frame as Buffer[])[0]
  t.same([...frame(125).subarray(0, 2)], [0x82, 125])
  t.same([...frame(126).subarray(0, 4)], [0x82, 126, 0, 126])
  t.same([...frame(65_535).subarray(0, 4)], [0x82, 126, 0xff, 0xff])
  t.same([...frame(65_536).subarray(0, 10)], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
  t.equal(frame(65_536).length, 65_546)
  t.same([...frame(3, false).subarray(0, 2)], [0x81, 3])
  t.equal(prepare(new Blob(['x'])).frame, null, 'a Blob is left to send()')
  t.equal(prepare([Buffer.from('a')] as any).frame, null, 'so is an array of chunks')
})
