import t from 'tap'
import { HeartbeatClient, type ReconnectingInfo } from '../../lib/client/index.js'
import { client, next, sleep, until } from '../helpers/client.js'
import { accept, closeFrame, rawServer } from '../helpers/raw-ws.js'

// Timer lateness allowed on a loaded 2-core CI machine (a run under load 12 saw 500 ms).
const SLACK = 700

t.setTimeout(30_000)

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
  // Without the fix the report waits for ws's own 30 s close timer.
  t.ok(elapsed < 300 + SLACK, `reported after ${elapsed.toFixed(0)} ms (closeTimeout 300)`)
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
  t.ok(elapsed < 2000 + SLACK, `reported after ${elapsed.toFixed(0)} ms (default closeTimeout 2000)`)
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
