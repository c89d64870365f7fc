import t from 'tap'
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { HeartbeatClient, type ReconnectingInfo } from '../../lib/client/index.js'
import { client, next, server, sleep, until } from '../helpers/client.js'
import { freePort } from '../helpers/index.js'

function record (c: HeartbeatClient) {
  const log = { reconnecting: [] as ReconnectingInfo[], close: [] as unknown[], errors: [] as Error[], opens: 0 }
  c.on('reconnecting', (info) => log.reconnecting.push(info))
  c.on('close', (code, reason) => log.close.push([code, reason]))
  c.on('error', (err) => log.errors.push(err))
  c.on('open', () => log.opens++)
  return log
}

t.test('a failed first connection is retried until the server is there', async (t) => {
  const port = await freePort()
  const c = client(t, `ws://127.0.0.1:${port}`, { reconnect: { initialDelay: 50, factor: 1, jitter: 0 } })
  const log = record(c)
  t.equal(c.state, 'connecting')
  const [info] = await next(c, 'reconnecting')
  t.same(info, { attempt: 1, delay: 50, code: 1006, reason: '' })
  t.equal(c.state, 'reconnecting')
  t.match(log.errors[0], { code: 'ECONNREFUSED' }, 'the refusal is reported as an error')
  t.same(log.close, [], 'no close event for a socket that never opened')
  await next(c, 'reconnecting')
  t.equal(c.state, 'reconnecting', 'still reconnecting between attempts')
  const wss = new WebSocketServer({ port, host: '127.0.0.1' })
  t.teardown(() => new Promise<void>((resolve) => {
    for (const ws of wss.clients) ws.terminate()
    wss.close(() => resolve())
  }))
  await next(c, 'open')
  t.equal(c.state, 'open')
  t.ok(log.reconnecting.length >= 2)
  t.same(log.reconnecting.map((i) => i.attempt), log.reconnecting.map((_, i) => i + 1), 'attempts count up')
})

t.test('a server close with 1008 is final', async (t) => {
  const { wss, url } = await server(t)
  let connections = 0
  wss.on('connection', (ws) => { connections++; ws.close(1008, 'not allowed') })
  const c = client(t, url, { reconnect: { initialDelay: 10 } })
  const log = record(c)
  t.same(await next(c, 'close'), [1008, 'not allowed'])
  t.equal(c.state, 'closed', 'closed by the time close listeners run')
  await sleep(300)
  t.equal(connections, 1)
  t.same(log.reconnecting, [])
  t.equal(c.send('x'), false)
})

t.test('reconnect: false never reconnects', async (t) => {
  const { wss, url } = await server(t)
  let connections = 0
  wss.on('connection', (ws) => { connections++; ws.close(1011) })
  const c = client(t, url, { reconnect: false })
  const log = record(c)
  await next(c, 'close')
  await sleep(300)
  t.equal(c.state, 'closed')
  t.equal(connections, 1)
  t.same(log.reconnecting, [])
})

t.test('shouldReconnect decides from the close code and reason', async (t) => {
  const { wss, url } = await server(t)
  const codes = [4002, 4001]
  let connections = 0
  wss.on('connection', (ws) => { connections++; ws.close(codes.shift() ?? 1000, 'bye') })
  const asked: unknown[] = []
  const c = client(t, url, {
    reconnect: { initialDelay: 10, shouldReconnect: (code, reason) => { asked.push([code, reason]); return code !== 4001 } }
  })
  const log = record(c)
  await until(t, 'closed for good', () => c.state === 'closed')
  t.same(asked, [[4002, 'bye'], [4001, 'bye']])
  t.same(log.reconnecting.map((i) => [i.attempt, i.code, i.reason]), [[1, 4002, 'bye']])
  await sleep(200)
  t.equal(connections, 2)
})

t.test('maxAttempts failed attempts in a row, then closed (an open alone is not success)', async (t) => {
  const { wss, url } = await server(t)
  let connections = 0
  wss.on('connection', (ws) => { connections++; ws.send('welcome'); ws.close(1011, 'crash') })
  const c = client(t, url, { interval: 1000, reconnect: { initialDelay: 20, factor: 1, jitter: 0, maxAttempts: 3 } })
  const log = record(c)
  await until(t, 'gave up', () => c.state === 'closed')
  t.same(log.reconnecting.map((i) => i.attempt), [1, 2, 3])
  t.equal(log.opens, 4, 'every attempt opened')
  t.equal(log.close.length, 4)
  await sleep(200)
  t.equal(connections, 4, 'the first connection and 3 attempts')
  await t.resolves(c.close(), 'close() after giving up resolves')
})

t.test('attempts reset only once a connection has answered a heartbeat', async (t) => {
  const options = { interval: 50, timeout: 500, reconnect: { initialDelay: 20, factor: 2, jitter: 0 } }
  t.test('closed after answering a heartbeat: every reconnect is attempt 1', async (t) => {
    const { wss, url } = await server(t)
    wss.on('connection', (ws) => ws.on('message', (data) => {
      const msg = JSON.parse(data.toString())
      ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }))
      ws.close(4001, 'restart')
    }))
    const c = client(t, url, options)
    const log = record(c)
    await until(t, 'three reconnects', () => log.reconnecting.length >= 3)
    t.same(log.reconnecting.slice(0, 3).map((i) => [i.attempt, i.delay]), [[1, 20], [1, 20], [1, 20]])
  })
  t.test('closed before any heartbeat, even after a message: attempts grow', async (t) => {
    const { wss, url } = await server(t)
    wss.on('connection', (ws) => { ws.send('welcome'); setTimeout(() => ws.close(4001, 'restart'), 20) })
    const c = client(t, url, options)
    const log = record(c)
    await until(t, 'three reconnects', () => log.reconnecting.length >= 3)
    t.same(log.reconnecting.slice(0, 3).map((i) => [i.attempt, i.delay]), [[1, 20], [2, 40], [3, 80]])
  })
})

t.test('503 on the upgrade is a failed attempt; retry-after is honoured', async (t) => {
  const http = createHttpServer()
  const wss = new WebSocketServer({ noServer: true })
  const upgrades: number[] = []
  http.on('upgrade', (req, socket, head) => {
    upgrades.push(performance.now())
    const retry = upgrades.length === 2 ? 'Retry-After: 1\r\n' : ''
    if (upgrades.length <= 2) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\n${retry}Content-Length: 0\r\nConnection: close\r\n\r\n`)
    } else {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
    }
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.teardown(() => {
    for (const ws of wss.clients) ws.terminate()
    http.closeAllConnections()
    http.close()
  })
  const c = client(t, `ws://127.0.0.1:${(http.address() as AddressInfo).port}`, { reconnect: { initialDelay: 50, jitter: 0 } })
  const log = record(c)
  await next(c, 'open', 5000)
  t.same(log.reconnecting.map((i) => [i.attempt, i.delay, i.code]), [[1, 50, 1006], [2, 1000, 1006]],
    'attempt 2 waits max(backoff 100, retry-after 1000)')
  t.match(log.errors, [{ statusCode: 503, retryAfter: null }, { statusCode: 503, retryAfter: 1000 }])
  t.equal(log.errors.length, 2, 'one error per rejection, nothing from the aborted handshake')
  t.same(log.close, [], 'no close event: no socket ever opened before')
  const waited = upgrades[2] - upgrades[1]
  t.ok(waited >= 990 && waited < 1500, `waited ${waited.toFixed(0)} ms after retry-after: 1`)
})
