import t from 'tap'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import type { Test } from 'tap'
import { HeartbeatClient, type ReconnectingInfo } from '../../lib/client/index.js'
import { client, next, sleep, until } from '../helpers/client.js'

t.setTimeout(30_000)

/**
 * A TCP server on 127.0.0.1 that speaks only as much HTTP/WebSocket as each test needs:
 * `onRequest` gets every accepted socket and the request head once it is complete.
 */
async function rawServer (t: Test, onRequest: (socket: Socket, head: string) => void) {
  const sockets = new Set<Socket>()
  /** Connections the client ended or destroyed (our side stays open: allowHalfOpen). */
  let ended = 0
  // allowHalfOpen: the client's FIN after its close frame does not end our side; each
  // test decides whether the TCP connection is ever ended.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('end', () => { ended++ })
    socket.on('error', () => {})
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      // Keep reading (and discarding) so that the client's FIN is seen as 'end'.
      socket.resume()
      onRequest(socket, head)
    }
    socket.on('data', onData)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, ended: () => ended }
}

/** Completes the upgrade by hand (RFC 6455 4.2.2), so the test owns the TCP connection. */
function accept (socket: Socket, head: string): void {
  const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? ''
  const digest = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${digest}\r\n\r\n`)
}

/** An unmasked server close frame. */
function closeFrame (code: number, reason: string): Buffer {
  const body = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)])
  return Buffer.concat([Buffer.from([0x88, body.length]), body])
}

function record (c: HeartbeatClient) {
  const log = { events: [] as unknown[][], reconnecting: [] as ReconnectingInfo[], errors: [] as Error[] }
  for (const name of ['open', 'close', 'timeout'] as const) c.on(name, (...args: unknown[]) => log.events.push([name, ...args]))
  c.on('reconnecting', (info) => { log.reconnecting.push(info); log.events.push(['reconnecting', info.code]) })
  c.on('error', (err) => log.errors.push(err))
  return log
}

t.test('connectTimeout: a server that accepts TCP and never answers the upgrade', async (t) => {
  let requests = 0
  const { url, ended } = await rawServer(t, () => { requests++ })
  const c = client(t, url, { connectTimeout: 200, reconnect: { initialDelay: 300, factor: 1, jitter: 0 } })
  const log = record(c)
  const start = performance.now()
  const [info] = await next(c, 'reconnecting')
  const elapsed = performance.now() - start
  t.ok(elapsed >= 190 && elapsed < 700, `first attempt abandoned after ${elapsed.toFixed(0)} ms`)
  t.same(info, { attempt: 1, delay: 300, code: 1006, reason: '' })
  t.equal(c.state, 'reconnecting')
  t.match(log.errors, [{ message: /connectTimeout.*200 ms/ }], 'an error says why the attempt was given up')
  await until(t, 'the abandoned socket is closed', () => ended() === 1, 250)
  t.equal(requests, 1)
  // The same on a reconnect: it must not stay 'reconnecting' after one event.
  const [second] = await next(c, 'reconnecting', 1500)
  t.same(second, { attempt: 2, delay: 300, code: 1006, reason: '' })
  t.equal(requests, 2)
  t.same(log.events.filter((e) => e[0] !== 'reconnecting'), [], 'no open, no close for sockets that never opened')
})

t.test('connectTimeout: a successful open clears it', async (t) => {
  const { url } = await rawServer(t, accept)
  const c = client(t, url, { connectTimeout: 100, interval: 10_000, timeout: 10_000, reconnect: false })
  const log = record(c)
  await next(c, 'open')
  await sleep(300)
  t.equal(c.state, 'open', 'still open well after connectTimeout')
  t.same(log.errors, [])
})

t.test('a server close frame with TCP left open: close(code, reason) within closeTimeout, 1008 final', async (t) => {
  const { url, ended } = await rawServer(t, (socket, head) => {
    accept(socket, head)
    socket.write(closeFrame(1008, 'policy'))
    // ...and the TCP connection stays open: this server never ends it.
  })
  const c = client(t, url, { interval: 300, timeout: 300, closeTimeout: 300, reconnect: { initialDelay: 10 } })
  const log = record(c)
  await next(c, 'open')
  const start = performance.now()
  const [code, reason] = await next(c, 'close', 2000)
  const elapsed = performance.now() - start
  t.same([code, reason], [1008, 'policy'], "the server's code and reason")
  t.ok(elapsed < 300 + 200, `reported after ${elapsed.toFixed(0)} ms (closeTimeout 300)`)
  t.equal(c.state, 'closed', '1008 stays final')
  await until(t, 'the client ended the TCP connection', () => ended() === 1, 1000)
  await sleep(600)
  t.same(log.events, [['open'], ['close', 1008, 'policy']], 'no heartbeat timeout, no reconnect')
})

t.test('a 1001 close frame with TCP left open, default options: reported within closeTimeout, then a reconnect', async (t) => {
  let connections = 0
  const { url } = await rawServer(t, (socket, head) => {
    accept(socket, head)
    if (++connections === 1) socket.write(closeFrame(1001, 'going away'))
  })
  const c = client(t, url, { reconnect: { initialDelay: 10, jitter: 0 } })
  const log = record(c)
  await next(c, 'open')
  const start = performance.now()
  const [code, reason] = await next(c, 'close', 5000)
  const elapsed = performance.now() - start
  t.same([code, reason], [1001, 'going away'])
  t.ok(elapsed < 2000 + 300, `reported after ${elapsed.toFixed(0)} ms (default closeTimeout 2000)`)
  await next(c, 'open')
  t.same(log.reconnecting.map((i) => [i.attempt, i.code, i.reason]), [[1, 1001, 'going away']])
})

t.test('close frames the server finishes promptly are reported at once', async (t) => {
  const { url } = await rawServer(t, (socket, head) => {
    accept(socket, head)
    socket.end(closeFrame(4321, 'done'))
  })
  const c = client(t, url, { closeTimeout: 5000, reconnect: false })
  await next(c, 'open')
  const start = performance.now()
  t.same(await next(c, 'close'), [4321, 'done'])
  t.ok(performance.now() - start < 1000, 'not held until closeTimeout')
  t.equal(c.state, 'closed')
})
