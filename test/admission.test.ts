import t from 'tap'
import WebSocket from 'ws'
import type { IncomingMessage } from 'node:http'
import { connect, startApp, until } from './helpers/index.js'

async function healthOf (port: number): Promise<{ status: number, body: unknown, cacheControl: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/health/ws`)
  return { status: res.status, body: await res.json(), cacheControl: res.headers.get('cache-control') }
}

/** An upgrade that must be refused: resolves with the HTTP answer, fails if it upgrades. */
function refused (url: string): Promise<{ res: IncomingMessage, body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('upgrade', () => reject(new Error('upgraded')))
    ws.once('open', () => {
      ws.terminate()
      reject(new Error('opened'))
    })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ res, body }))
    })
    ws.once('error', () => {})
  })
}

t.test('maxConnections: at the cap, upgrades get 503 + retry-after before any upgrade', { timeout: 20000 }, async (t) => {
  let handled = 0
  const { app, url, port } = await startApp(t, { maxConnections: 2, interval: 1000, timeout: 1000 }, (app) => {
    app.get('/a', { websocket: true }, () => { handled++ })
    app.get('/b', { websocket: true, heartbeat: { mode: 'json' } }, () => { handled++ })
    app.get('/raw', { websocket: true, heartbeat: false }, () => { handled++ })
  })

  t.same(await healthOf(port), { status: 200, body: { status: 'ok', connections: 0, routes: {} }, cacheControl: 'no-store' })
  const first = await connect(t, `${url}/a`)
  t.equal((await healthOf(port)).status, 200, 'room for one more')
  await connect(t, `${url}/b`)
  t.equal(handled, 2)

  t.same(await healthOf(port), {
    status: 503,
    body: { status: 'full', connections: 2, routes: { '/a': 1, '/b': 1 } },
    cacheControl: 'no-store'
  }, 'health: 503 full at the cap')

  // Every websocket route is capped, whatever its heartbeat mode.
  for (const path of ['/a', '/b', '/raw']) {
    const { res, body } = await refused(`${url}${path}`)
    t.equal(res.statusCode, 503, `${path}: 503`)
    const retryAfter = res.headers['retry-after']
    t.match(retryAfter, /^\d+$/, `${path}: retry-after in seconds (${retryAfter})`)
    t.ok(Number(retryAfter) >= 1, 'retry-after >= 1')
    t.match(body, /full/, 'the body says why')
  }
  t.equal(handled, 2, 'the route handler never ran for a refused upgrade')
  t.equal(app.wsConnections.size, 2)
  t.equal(app.wsConnections.stats().accepted, 2, 'refused upgrades are not accepted connections')

  // Room frees up: health turns 200 and the next upgrade goes through.
  first.close()
  await until(() => app.wsConnections.size === 1, 2000, 'a connection closed')
  t.same((await healthOf(port)).body, { status: 'ok', connections: 1, routes: { '/b': 1 } }, 'health: ok again')
  t.equal((await healthOf(port)).status, 200)
  await connect(t, `${url}/raw`)
  t.equal(handled, 3, 'admitted again')
  t.same(await healthOf(port), {
    status: 503,
    body: { status: 'full', connections: 2, routes: { '/b': 1, '/raw': 1 } },
    cacheControl: 'no-store'
  }, 'full again')
})

t.test('maxConnections: a burst of upgrades at the cap admits exactly the cap', { timeout: 20000 }, async (t) => {
  let handled = 0
  const { app, url } = await startApp(t, { maxConnections: 5 }, (app) => {
    app.get('/a', { websocket: true }, () => { handled++ })
  })
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => connect(t, `${url}/a`)))
  const opened = results.filter((r) => r.status === 'fulfilled').length
  t.equal(opened, 5, 'five opened')
  t.equal(handled, 5, 'five handled')
  t.equal(app.wsConnections.size, 5)
  for (const r of results) {
    if (r.status === 'rejected') t.match(String(r.reason), /503/, 'the others were refused with 503')
  }
})

t.test('maxConnections: a non-websocket request to a websocket route is not refused by the cap', { timeout: 20000 }, async (t) => {
  const { port, url } = await startApp(t, { maxConnections: 1 }, (app) => {
    app.get('/a', { websocket: true }, () => {})
  })
  await connect(t, `${url}/a`)
  const res = await fetch(`http://127.0.0.1:${port}/a`)
  // @fastify/websocket answers plain HTTP on a websocket-only route with 404; the cap does not apply.
  t.equal(res.status, 404)
})
