import t from 'tap'
import { client, next, server, sleep, until } from '../helpers/client.js'

t.test('close() ends an open connection with the close handshake', async (t) => {
  const { wss, url } = await server(t)
  const serverSaw: unknown[] = []
  let connections = 0
  wss.on('connection', (ws) => { connections++; ws.on('close', (code, reason) => serverSaw.push([code, reason.toString()])) })
  const c = client(t, url, { reconnect: { initialDelay: 10 } })
  const closes: unknown[] = []
  c.on('close', (code, reason) => closes.push([code, reason]))
  c.on('reconnecting', () => t.fail('reconnected after close()'))
  await next(c, 'open')
  const closing = c.close(4100, 'bye')
  t.equal(c.state, 'closed', 'closed at once')
  t.equal(c.close(), closing, 'a second close() returns the same promise')
  await closing
  t.same(closes, [[4100, 'bye']], 'close fired once, with the handshake code')
  await until(t, 'the server saw the close frame', () => serverSaw.length === 1)
  t.same(serverSaw, [[4100, 'bye']])
  await sleep(200)
  t.equal(connections, 1)
})

t.test('close() defaults to 1000', async (t) => {
  const { url } = await server(t)
  const c = client(t, url, {})
  await next(c, 'open')
  const closed = next(c, 'close')
  await c.close()
  t.same(await closed, [1000, ''])
})

t.test('close() destroys the connection after closeTimeout when the server does not answer', async (t) => {
  const { wss, url } = await server(t)
  // This server reads our close frame but never answers it.
  wss.on('connection', (ws) => { ws.close = () => {} })
  const c = client(t, url, { closeTimeout: 200 })
  await next(c, 'open')
  const closed = next(c, 'close')
  const start = performance.now()
  await c.close()
  const elapsed = performance.now() - start
  t.ok(elapsed >= 190 && elapsed < 600, `resolved after ${elapsed.toFixed(0)} ms`)
  t.same(await closed, [1006, ''], 'an abnormal closure')
  await until(t, 'the server lost the connection', () => wss.clients.size === 0)
})

t.test('close() while connecting: no open, no close event, resolves at once', async (t) => {
  const { url } = await server(t)
  const c = client(t, url, {})
  c.on('open', () => t.fail('opened'))
  c.on('close', () => t.fail('close event without an open socket'))
  c.on('error', () => t.fail('the aborted handshake is not an error'))
  await c.close()
  t.equal(c.state, 'closed')
  await sleep(200)
})

t.test('close() while reconnecting stops all attempts', async (t) => {
  const { wss, url } = await server(t)
  let connections = 0
  wss.on('connection', (ws) => { connections++; ws.close(1011) })
  const c = client(t, url, { reconnect: { initialDelay: 100, jitter: 0 } })
  await next(c, 'reconnecting')
  await c.close()
  t.equal(c.state, 'closed')
  await sleep(300)
  t.equal(connections, 1)
})

t.test('close() right after a heartbeat timeout ends the lingering socket too', async (t) => {
  const { wss, url } = await server(t, { autoPong: false })
  wss.on('connection', (ws) => { ws.close = () => {} })
  const c = client(t, url, { mode: 'frame', interval: 50, timeout: 50, closeTimeout: 10_000, reconnect: { initialDelay: 5000 } })
  await next(c, 'timeout')
  await c.close()
  await until(t, 'the timed-out socket is destroyed without waiting closeTimeout', () => wss.clients.size === 0)
})

t.test('close() from a close or timeout listener: no reconnecting announced, none made', async (t) => {
  for (const event of ['close', 'timeout'] as const) {
    const { wss, url } = await server(t, { autoPong: false })
    let connections = 0
    wss.on('connection', () => { connections++ })
    const c = client(t, url, { mode: 'frame', interval: 50, timeout: 50, reconnect: { initialDelay: 10 } })
    c.on('reconnecting', () => t.fail(`reconnecting after close() in a ${event} listener`))
    c.on(event, () => { c.close().catch(t.threw) })
    await next(c, 'timeout')
    t.equal(c.state, 'closed', `closed from a ${event} listener`)
    await sleep(150)
    t.equal(connections, 1)
  }
})

t.test('an invalid close code or reason rejects and leaves the client as it was', async (t) => {
  const { url } = await server(t)
  const c = client(t, url, {})
  await next(c, 'open')
  await t.rejects(c.close(1006), { name: 'TypeError', message: /1006/ })
  await t.rejects(c.close(2999), TypeError)
  await t.rejects(c.close(1000, 'x'.repeat(124)), { name: 'TypeError', message: /123 bytes/ })
  t.equal(c.state, 'open')
  t.equal(c.send('still works'), true)
})
