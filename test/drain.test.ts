import t from 'tap'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import WebSocket from 'ws'
import type { AddressInfo } from 'node:net'
import heartbeat from '../lib/index.js'
import { connect, startApp, until } from './helpers/index.js'
import { rawPeer } from './fixtures/fault-kit.js'

const SLACK = 80

async function healthOf (port: number): Promise<{ status: number, body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

/** Resolves with the HTTP status of an upgrade that must be refused. */
function refusedStatus (url: string): Promise<{ status: number, retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => {
      ws.terminate()
      reject(new Error('opened'))
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode as number, retryAfter: res.headers['retry-after'] as string | undefined })
      res.resume()
    })
    ws.once('error', reject)
  })
}

interface Closed { at: number, code: number, reason: string }

function watchClose (ws: WebSocket): Promise<Closed> {
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ at: Date.now(), code, reason: reason.toString() }))
  })
}

t.test('drain({ delay, window, code, reason }): 503 at once, close frames spread over the window', { timeout: 20000 }, async (t) => {
  const { app, url, port } = await startApp(t, { interval: 100, timeout: 200, closeTimeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, (socket) => { socket.on('message', (data) => socket.send(data)) })
  })
  const n = 20
  const clients = await Promise.all(Array.from({ length: n }, () => connect(t, `${url}/echo`)))
  const closes = clients.map(watchClose)
  t.equal(app.wsConnections.size, n)

  const delay = 300
  const window = 1000
  const drainAt = Date.now()
  let resolvedAt = 0
  let sizeAtResolve = -1
  const drained = app.wsConnections.drain({ delay, window, code: 4001, reason: 'moving to another instance' })
    .then(() => {
      resolvedAt = Date.now()
      sizeAtResolve = app.wsConnections.size
    })
  t.equal(app.wsConnections.draining, true, 'draining at once')
  const again = app.wsConnections.drain()
  t.equal(app.wsConnections.drain(), again, 'a second drain() returns the same promise')

  // During the delay: health says draining, upgrades are refused, nobody is closed yet.
  const during = await healthOf(port)
  t.equal(during.status, 503)
  t.same(during.body, { status: 'draining', connections: n, routes: { '/echo': n } })
  const upgrade = await refusedStatus(`${url}/echo`)
  t.equal(upgrade.status, 503, 'new upgrades get 503')
  t.match(upgrade.retryAfter, /^\d+$/, 'with retry-after')
  t.ok(Date.now() - drainAt < delay, 'checked within the delay')
  t.equal(app.wsConnections.size, n, 'nobody closed during the delay')

  const results = await Promise.all(closes)
  await drained
  t.ok(results.every((r) => r.code === 4001 && r.reason === 'moving to another instance'), 'every client got the close code and reason')

  const times = results.map((r) => r.at - drainAt).sort((a, b) => a - b)
  t.comment(`close times after drain(): ${times.join(' ')}`)
  t.ok(times[0] >= delay, `first close ${times[0]} ms after drain(), not before the delay (${delay})`)
  t.ok(times[n - 1] <= delay + window + SLACK, `last close at ${times[n - 1]} ms, within delay + window + slack`)
  // Evenly spread: the i-th close near delay + window * i / n, not all at once. Seen from
  // the clients (close handshake and scheduling included), within two slots of its own.
  const slot = window / n
  const off = times.map((at, i) => Math.abs(at - (delay + slot * i)))
  t.ok(Math.max(...off) <= 2 * slot, `each close within ${2 * slot} ms of its slot (worst ${Math.max(...off)} ms)`)
  t.ok(times[n - 1] - times[0] >= window * 0.8, `spread over ${times[n - 1] - times[0]} ms of a ${window} ms window`)
  const perTenth = new Array(10).fill(0)
  for (const at of times) perTenth[Math.min(9, Math.floor(((at - delay) / window) * 10))]++
  t.ok(Math.max(...perTenth) <= n / 4, `at most ${n / 4} closes in any tenth of the window (${perTenth.join(',')})`)

  t.ok(resolvedAt >= drainAt + times[n - 1] - 5, 'resolved after the last close')
  t.equal(sizeAtResolve, 0, 'no connection left when it resolves')
  t.equal(app.wsConnections.draining, true, 'draining stays true')
  t.equal(app.wsConnections.stats().draining, true)
  t.same(await healthOf(port), { status: 503, body: { status: 'draining', connections: 0, routes: {} } }, 'health stays 503 draining')
  t.equal((await refusedStatus(`${url}/echo`)).status, 503, 'upgrades stay refused')
})

t.test('drain(): a peer that does not finish the close handshake is destroyed after closeTimeout', { timeout: 20000 }, async (t) => {
  const closeTimeout = 300
  const { app, url, port } = await startApp(t, { interval: 5000, timeout: 5000, closeTimeout }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const polite = await connect(t, `${url}/echo`)
  const politeClosed = watchClose(polite)
  const deaf = await rawPeer(t, port, '/echo')
  await until(() => app.wsConnections.size === 2, 1000, 'both tracked')

  const drainAt = Date.now()
  await app.wsConnections.drain()
  const resolvedIn = Date.now() - drainAt
  const closed = await politeClosed
  t.equal(closed.code, 1001, 'default code 1001')
  t.equal(closed.reason, 'server shutting down', 'default reason')
  t.ok(closed.at - drainAt < 100, `the polite client closed at once (${closed.at - drainAt} ms)`)

  t.ok(deaf.closeFrameAt !== 0, 'the deaf peer was sent a close frame')
  const frames = Buffer.concat(deaf.received)
  t.equal(frames.readUInt16BE(frames.lastIndexOf(0x88) + 2), 1001)
  await until(() => deaf.closedAt !== 0, 1000, 'deaf peer closed')
  const destroyedIn = deaf.closedAt - deaf.closeFrameAt
  t.ok(destroyedIn >= closeTimeout - 5 && destroyedIn <= closeTimeout + SLACK, `destroyed ${destroyedIn} ms after its close frame (closeTimeout ${closeTimeout})`)
  t.ok(resolvedIn >= closeTimeout - 5, `drain resolved only once it was gone (${resolvedIn} ms)`)
  t.equal(app.wsConnections.size, 0)
})

t.test('app.close() without drain() sends 1001 when the plugin registered @fastify/websocket', { timeout: 20000 }, async (t) => {
  const seen = { drainingDuringClose: false, healthDuringClose: 0 }
  const { app, url, port } = await startApp(t, { closeTimeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
    // Runs after the plugin's own preClose (the drain).
    app.addHook('preClose', async () => {
      seen.drainingDuringClose = app.wsConnections.draining
      seen.healthDuringClose = (await healthOf(port)).status
    })
  })
  const clients = await Promise.all([1, 2, 3].map(() => connect(t, `${url}/echo`)))
  const closes = clients.map(watchClose)
  t.equal((await healthOf(port)).status, 200)
  await app.close()
  const results = await Promise.all(closes)
  t.same(results.map((r) => [r.code, r.reason]), [1, 2, 3].map(() => [1001, 'server shutting down']))
  t.equal(seen.drainingDuringClose, true, 'draining during close')
  t.equal(seen.healthDuringClose, 503, 'health answered 503 during close')
  t.equal(app.wsConnections.size, 0)
})

t.test('app.close() when the app registered @fastify/websocket first', { timeout: 20000 }, async (t) => {
  const app = Fastify()
  await app.register(websocket)
  await app.register(heartbeat, { closeTimeout: 200 })
  app.get('/echo', { websocket: true }, () => {})
  const seen = { drainingDuringClose: false, healthDuringClose: 0 }
  app.addHook('preClose', async () => {
    seen.drainingDuringClose = app.wsConnections.draining
    seen.healthDuringClose = (await healthOf(port)).status
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  const clients = await Promise.all([1, 2, 3].map(() => connect(t, `ws://127.0.0.1:${port}/echo`)))
  const closes = clients.map(watchClose)
  t.equal((await healthOf(port)).status, 200)

  const closeAt = Date.now()
  await app.close()
  const results = await Promise.all(closes)
  t.comment(`clients closed with ${results.map((r) => r.code).join(', ')} after ${Math.max(...results.map((r) => r.at)) - closeAt} ms`)
  // @fastify/websocket's own preClose: close() without a code (the client sees 1005). It
  // does not wait for the handshakes: close() may resolve while they finish.
  t.ok(results.every((r) => r.code === 1005), 'closed by @fastify/websocket')
  t.equal(seen.drainingDuringClose, true, 'draining during close')
  t.equal(seen.healthDuringClose, 503, 'health answered 503 during close')
  t.comment(`size after close: ${app.wsConnections.size}, readyStates ${[...app.wsConnections].map((c) => c.socket.readyState).join(',')}`)
  await until(() => app.wsConnections.size === 0, 2000, 'untracked after close')
  t.comment(`untracked ${Date.now() - closeAt} ms after close()`)
})

t.test('drain options are validated before anything is closed: timer-sized durations, known keys', { timeout: 10000 }, async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/', { websocket: true }, () => {})
  })
  const ws = await connect(t, url)
  const closes: number[] = []
  ws.on('close', (code) => closes.push(code))
  await until(() => app.wsConnections.size === 1, 2000)
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ delay: 2 ** 31 }, 'drain.delay'],
    [{ window: 2 ** 31 }, 'drain.window'],
    [{ delay: -1 }, 'drain.delay'],
    [{ delay: Infinity }, 'drain.delay'],
    [{ windw: 10 }, 'drain.windw'],
    [{ code: 1005 }, 'drain.code'],
    [{ reason: 'x'.repeat(124) }, 'drain.reason']
  ]
  for (const [opts, name] of bad) {
    await t.rejects(app.wsConnections.drain(opts as never), { code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION', message: new RegExp(`"${name.replace('.', '\\.')}"`) }, JSON.stringify(opts) ?? String(opts))
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(closes, [], 'nothing was closed')
  t.equal(app.wsConnections.draining, false, 'not draining')
  t.equal(app.wsConnections.size, 1)
  await app.wsConnections.drain({ delay: 0 })
  t.equal(app.wsConnections.size, 0, 'a valid drain still works afterwards')
})
