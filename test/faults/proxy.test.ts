import t from 'tap'
import { connect, until } from '../helpers/index.js'
import { internalsOf } from '../../lib/manager.js'
import {
  DETECT_BOUND, SLACK, answerJsonPings, assertControlHealthy, closeTimeout, controlClient, faultApp, startProxy, timeout
} from '../fixtures/fault-kit.js'

t.test('a peer behind a proxy that black-holes both directions (NAT timeout)', { timeout: 20000 }, async (t) => {
  const f = await faultApp(t)
  const control = await controlClient(t, f)
  const proxy = await startProxy(t, f.port)
  const ws = await connect(t, `ws://127.0.0.1:${proxy.port}/json`)
  answerJsonPings(ws)
  await until(() => f.app.wsConnections.size === 2, 10000, 'peer tracked')
  const conn = [...f.app.wsConnections].find((c) => c.route === '/json')
  if (conn === undefined) throw new Error('no peer connection')
  await until(() => conn.latency !== null, 2000, 'a heartbeat answered')

  proxy.blackhole()
  const silentAt = Date.now()
  await until(() => f.timedOutAt.has(conn.id), DETECT_BOUND + 2000, 'timeout')
  const deadAt = f.timedOutAt.get(conn.id) as number
  const lastBytes = f.lastBytesAt.get(conn.socket) as number
  t.ok(deadAt - silentAt <= DETECT_BOUND, `detected ${deadAt - silentAt} ms after the black hole (bound ${DETECT_BOUND})`)
  t.ok(deadAt - lastBytes >= timeout, `not before timeout after the last bytes (${deadAt - lastBytes} ms)`)
  t.equal(f.app.wsConnections.size, 1)
  t.same(f.app.wsConnections.stats().routes, { '/echo': 1 })
  t.same(f.disconnects.map((d) => [d.id, d.code, d.reason]), [[conn.id, 1011, 'heartbeat timeout']])

  // The close frame is dropped too: the server-side TCP connection is destroyed after
  // closeTimeout, which the proxy sees as a FIN on its upstream socket.
  const link = proxy.links[0]
  await until(() => link.upstreamEndedAt !== 0, closeTimeout + 2000, 'server-side socket ended')
  const destroyedIn = link.upstreamEndedAt - deadAt
  t.ok(destroyedIn <= closeTimeout + SLACK, `server-side socket destroyed ${destroyedIn} ms after the verdict`)
  t.ok(destroyedIn >= closeTimeout - 5, 'not before closeTimeout')
  t.equal(conn.socket.readyState, conn.socket.CLOSED)
  // Behind a NAT that forgot the mapping the client learns nothing: its own heartbeat's job.
  t.equal(ws.readyState, ws.OPEN, 'the client never heard of it')

  await assertControlHealthy(t, f, control)
  t.comment(`fault=blackhole detect=${deadAt - silentAt} destroy=${destroyedIn}`)
})

t.test('a proxy that half-closes toward the server (FIN, then silence)', { timeout: 20000 }, async (t) => {
  const f = await faultApp(t)
  const control = await controlClient(t, f)
  const proxy = await startProxy(t, f.port)
  await connect(t, `ws://127.0.0.1:${proxy.port}/echo`)
  await until(() => f.app.wsConnections.size === 2, 10000, 'peer tracked')
  const conn = [...f.app.wsConnections].find((c) => c !== control.conn)
  if (conn === undefined) throw new Error('no peer connection')

  const endAt = Date.now()
  proxy.endTowardServer()
  // `ws` answers a FIN by ending its side: the connection is gone long before any heartbeat verdict.
  await until(() => f.app.wsConnections.size === 1, DETECT_BOUND + 2000, 'untracked')
  const goneIn = Date.now() - endAt
  t.ok(goneIn <= DETECT_BOUND, `untracked ${goneIn} ms after the FIN (bound ${DETECT_BOUND})`)
  const link = proxy.links[0]
  await until(() => link.upstreamClosedAt !== 0, closeTimeout + 2000, 'server-side socket closed')
  t.ok(link.upstreamClosedAt - endAt <= DETECT_BOUND + closeTimeout, `TCP connection fully closed after ${link.upstreamClosedAt - endAt} ms`)
  await until(() => conn.socket.readyState === conn.socket.CLOSED, 1000, 'server socket CLOSED')
  t.equal(f.app.wsConnections.count('/echo'), 1, 'only the control left')
  t.same(f.app.wsConnections.stats().routes, { '/echo': 1 })
  t.equal(f.disconnects.length, 1, 'one disconnect')
  t.equal(f.disconnects[0].id, conn.id)
  t.comment(`half-close seen as code ${f.disconnects[0].code} '${f.disconnects[0].reason}'`)
  t.equal(f.timedOutAt.size, 0, 'not counted as a heartbeat death: the peer said goodbye at TCP level')

  // Every scheduler entry of the dead connection is released once its due times pass.
  await until(() => internalsOf(f.app.wsConnections).heartbeats.pending <= 1, Math.max(timeout, closeTimeout) + 1000, 'scheduler entries released')
  await assertControlHealthy(t, f, control)
  t.comment(`fault=halfclose-server untracked=${goneIn}`)
})

t.test('a client that half-closes its own socket (end(), keeps reading)', { timeout: 20000 }, async (t) => {
  const f = await faultApp(t)
  const control = await controlClient(t, f)
  const ws = await connect(t, `${f.url}/json`)
  await until(() => f.app.wsConnections.size === 2, 10000, 'peer tracked')
  const conn = [...f.app.wsConnections].find((c) => c !== control.conn)
  if (conn === undefined) throw new Error('no peer connection')
  const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket
  const endAt = Date.now()
  raw.end()
  await until(() => f.app.wsConnections.size === 1, DETECT_BOUND + 2000, 'untracked')
  const goneIn = Date.now() - endAt
  t.ok(goneIn <= DETECT_BOUND, `untracked ${goneIn} ms after the FIN (bound ${DETECT_BOUND})`)
  await until(() => conn.socket.readyState === conn.socket.CLOSED, closeTimeout + 1000, 'server socket CLOSED')
  await until(() => ws.readyState === ws.CLOSED, closeTimeout + 1000, 'client socket CLOSED')
  t.equal(f.app.wsConnections.count('/json'), 0)
  t.equal(f.disconnects.length, 1)
  await assertControlHealthy(t, f, control)
  t.comment(`fault=halfclose-client untracked=${goneIn}`)
})
