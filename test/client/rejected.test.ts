import t from 'tap'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { WebSocketServer } from 'ws'
import type { ReconnectingInfo } from '../../lib/client/index.js'
import { client, next, sleep, until } from '../helpers/client.js'

t.setTimeout(20_000)

/** Answers upgrades with `statuses` in turn (the last one repeats); 101 means accept. */
async function answering (t: Test, statuses: number[]) {
  const http = createServer()
  const wss = new WebSocketServer({ noServer: true })
  let upgrades = 0
  http.on('upgrade', (req, socket, head) => {
    const status = statuses[Math.min(upgrades++, statuses.length - 1)]
    if (status === 101) return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
    socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.teardown(() => {
    for (const ws of wss.clients) ws.terminate()
    http.closeAllConnections()
    http.close()
  })
  return { wss, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/nope`, upgrades: () => upgrades }
}

for (const status of [404, 401, 400, 403]) {
  t.test(`${status} on the upgrade stops reconnecting: closed, error.statusCode`, async (t) => {
    const server = await answering(t, [status])
    const c = client(t, server.url, { reconnect: { initialDelay: 20, jitter: 0 } })
    const errors: Error[] = []
    c.on('error', (err) => errors.push(err))
    c.on('reconnecting', () => t.fail('reconnecting after a 4xx'))
    await until(t, 'closed for good', () => c.state === 'closed')
    t.match(errors, [{ statusCode: status, message: new RegExp(String(status)) }])
    await sleep(200)
    t.equal(server.upgrades(), 1, 'asked once')
    t.equal(c.send('x'), false)
  })
}

for (const status of [408, 429, 500, 503]) {
  t.test(`${status} on the upgrade is a failed attempt, retried`, async (t) => {
    const server = await answering(t, [status, status, 101])
    const asked: unknown[] = []
    const c = client(t, server.url, {
      reconnect: { initialDelay: 20, factor: 1, jitter: 0, shouldReconnect: (...args: unknown[]) => { asked.push(args); return true } }
    })
    const reconnecting: ReconnectingInfo[] = []
    c.on('reconnecting', (info) => reconnecting.push(info))
    await next(c, 'open')
    t.same(reconnecting.map((i) => [i.attempt, i.code]), [[1, 1006], [2, 1006]])
    t.same(asked, [[1006, '', {}], [1006, '', {}]], 'other failed attempts call shouldReconnect(code, reason, {})')
  })
}

t.test('shouldReconnect(1006, \'\', { statusCode }) can keep a 4xx retrying', async (t) => {
  const server = await answering(t, [404, 401, 101])
  const asked: unknown[] = []
  const c = client(t, server.url, {
    reconnect: { initialDelay: 20, factor: 1, jitter: 0, shouldReconnect: (...args: unknown[]) => { asked.push(args); return true } }
  })
  await next(c, 'open')
  t.same(asked, [[1006, '', { statusCode: 404 }], [1006, '', { statusCode: 401 }]])
  t.equal(c.state, 'open')
})

t.test('shouldReconnect returning false on a 4xx stops, as without it', async (t) => {
  const server = await answering(t, [404])
  const c = client(t, server.url, { reconnect: { initialDelay: 20, shouldReconnect: () => false } })
  await until(t, 'closed for good', () => c.state === 'closed')
  t.equal(server.upgrades(), 1)
})

t.test('a close after an open calls shouldReconnect(code, reason, {})', async (t) => {
  const server = await answering(t, [101])
  let closes = 0
  const asked: unknown[] = []
  const c = client(t, server.url, {
    reconnect: { initialDelay: 20, shouldReconnect: (...args: unknown[]) => { asked.push(args); return false } }
  })
  c.on('close', () => closes++)
  await next(c, 'open')
  for (const ws of server.wss.clients) ws.close(4001, 'bye')
  await until(t, 'closed for good', () => c.state === 'closed')
  t.same(asked, [[4001, 'bye', {}]])
  t.equal(closes, 1)
})
