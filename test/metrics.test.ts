import t from 'tap'
import { Registry } from 'prom-client'
import WebSocket from 'ws'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { connect, startApp, until, once, sleep, type TestTap } from './helpers/index.js'
import { sample } from './helpers/metrics.js'
import { internalsOf } from '../lib/manager.js'
import type { Lifecycle } from '../lib/lifecycle.js'

// Each metric of contract section 8, read from a registry as Prometheus would scrape it,
// after real connections (ws clients over TCP on 127.0.0.1) did what moves it.
t.setTimeout(30_000)

function echo (socket: WebSocket): void {
  socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }))
}

async function metricsApp (t: TestTap, opts: Record<string, unknown> = {}, routes?: (app: FastifyInstance) => void) {
  const registry = new Registry()
  const started = await startApp(t, { metrics: { registry }, ...opts }, routes ?? ((app) => {
    app.get('/echo', { websocket: true }, echo)
  }))
  return { ...started, registry }
}

/** The HTTP status of an upgrade the server refuses (the request ends after the answer). */
function refusedStatus (url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => { ws.terminate(); reject(new Error('upgraded')) })
    ws.once('unexpected-response', (req, res) => { res.resume(); req.destroy(); resolve(res.statusCode ?? 0) })
    ws.once('error', () => {})
  })
}

t.test('connect and close: ws_connections, accepted, disconnections{closed}, duration', async (t) => {
  const { app, url, registry } = await metricsApp(t)
  t.equal(await sample(registry, 'ws_connections', { route: '/echo' }), 0, 'a declared route starts at 0')
  t.equal(await sample(registry, 'ws_connections_accepted_total', { route: '/echo' }), 0)

  const a = await connect(t, url + '/echo')
  await connect(t, url + '/echo')
  await until(() => app.wsConnections.size === 2)
  t.equal(await sample(registry, 'ws_connections', { route: '/echo' }), 2)
  t.equal(await sample(registry, 'ws_connections_accepted_total', { route: '/echo' }), 2)

  const gone = once(app.wsConnections, 'disconnect')
  a.close()
  await gone
  t.equal(await sample(registry, 'ws_connections', { route: '/echo' }), 1)
  t.equal(await sample(registry, 'ws_disconnections_total', { route: '/echo', reason: 'closed' }), 1)
  t.equal(await sample(registry, 'ws_disconnections_total', { route: '/echo', reason: 'timeout' }), 0)
  t.equal(await sample(registry, 'ws_disconnections_total', { route: '/echo', reason: 'drain' }), 0)
  t.equal(await sample(registry, 'ws_connection_duration_seconds_count', { route: '/echo' }), 1)
  t.equal(await sample(registry, 'ws_connection_duration_seconds_bucket', { route: '/echo', le: 1 }), 1, 'lived under a second')
  const sum = await sample(registry, 'ws_connection_duration_seconds_sum', { route: '/echo' }) as number
  t.ok(sum >= 0 && sum < 1, `duration sum ${sum} s`)
  t.equal(await sample(registry, 'ws_draining'), 0)
})

t.test('heartbeat death: timeouts, disconnections{timeout}, heartbeats sent', async (t) => {
  const { app, url, registry } = await metricsApp(t, { interval: 100, timeout: 100, closeTimeout: 100 })
  // A peer that never answers ping frames.
  const silent = new WebSocket(url + '/echo', { autoPong: false })
  t.teardown(() => silent.terminate())
  await once(silent, 'open')
  await once(app.wsConnections, 'timeout', 2000)
  t.equal(await sample(registry, 'ws_heartbeat_timeouts_total', { route: '/echo' }), 1)
  t.equal(await sample(registry, 'ws_disconnections_total', { route: '/echo', reason: 'timeout' }), 1)
  t.equal(await sample(registry, 'ws_disconnections_total', { route: '/echo', reason: 'closed' }), 0)
  t.equal(await sample(registry, 'ws_connections', { route: '/echo' }), 0)
  t.equal(await sample(registry, 'ws_heartbeat_rtt_seconds_count', { route: '/echo' }), 0, 'no answer, no RTT')
  t.ok((await sample(registry, 'ws_heartbeats_sent_total', { route: '/echo' }) as number) >= 1, 'the unanswered heartbeat was counted')
})

t.test('answered heartbeats: RTT histogram (frame and JSON routes)', async (t) => {
  const { app, url, registry } = await metricsApp(t, { interval: 100, timeout: 1000 }, (app) => {
    app.get('/frame', { websocket: true }, echo)
    app.get('/json', { websocket: true, heartbeat: { mode: 'json' } }, echo)
  })
  await connect(t, url + '/frame')
  const j = await connect(t, url + '/json')
  j.on('message', (data) => {
    const msg = JSON.parse(String(data))
    if (msg.type === 'ping') j.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }))
  })
  await until(() => [...app.wsConnections].every((c) => c.latency !== null), 3000, 'both answered')
  await sleep(250)
  for (const route of ['/frame', '/json']) {
    const count = await sample(registry, 'ws_heartbeat_rtt_seconds_count', { route }) as number
    const sent = await sample(registry, 'ws_heartbeats_sent_total', { route }) as number
    const sum = await sample(registry, 'ws_heartbeat_rtt_seconds_sum', { route }) as number
    t.ok(count >= 2, `${route}: ${count} RTT observations`)
    // A ping or two may be on their way when scraped (more on a loaded machine).
    t.ok(sent >= count && sent <= count + 3, `${route}: ${sent} sent, ${count} answered`)
    t.ok(sum > 0 && sum / count < 0.5, `${route}: mean RTT ${sum / count} s on 127.0.0.1`)
    t.equal(await sample(registry, 'ws_heartbeat_rtt_seconds_bucket', { route, le: '+Inf' }), count)
    t.equal(await sample(registry, 'ws_heartbeat_rtt_seconds_bucket', { route, le: 10 }), count, 'cumulative buckets')
  }
  const text = await registry.metrics()
  t.match(text, '# TYPE ws_heartbeat_rtt_seconds histogram')
  t.match(text, /ws_heartbeat_rtt_seconds_bucket\{route="\/frame",le="0.001"\} \d+/)
  const bounds = [...text.matchAll(/ws_heartbeat_rtt_seconds_bucket\{route="\/frame",le="([^"]+)"\}/g)].map((m) => m[1])
  t.same(bounds, ['0.001', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'])
  const durations = [...text.matchAll(/ws_connection_duration_seconds_bucket\{route="\/frame",le="([^"]+)"\}/g)].map((m) => m[1])
  t.same(durations, ['1', '10', '60', '300', '1800', '3600', '21600', '86400', '+Inf'])
})

t.test('traffic both ways: heartbeats skipped, not sent', async (t) => {
  const { url, registry } = await metricsApp(t, { interval: 100, timeout: 1000 })
  const ws = await connect(t, url + '/echo')
  const timer = setInterval(() => ws.send('x'), 10)
  t.teardown(() => clearInterval(timer))
  await sleep(600)
  clearInterval(timer)
  const skipped = await sample(registry, 'ws_heartbeats_skipped_total', { route: '/echo' }) as number
  const sent = await sample(registry, 'ws_heartbeats_sent_total', { route: '/echo' }) as number
  t.ok(skipped >= 3, `${skipped} skipped`)
  t.ok(sent < skipped, `${sent} sent while busy`)
})

t.test('drain: disconnections{drain}, ws_draining, rejected{draining}', async (t) => {
  const { app, url, port, registry } = await metricsApp(t)
  await connect(t, url + '/echo')
  await connect(t, url + '/echo')
  await until(() => app.wsConnections.size === 2)
  await app.wsConnections.drain()
  t.equal(await sample(registry, 'ws_draining'), 1)
  t.equal(await sample(registry, 'ws_disconnections_total', { route: '/echo', reason: 'drain' }), 2)
  t.equal(await sample(registry, 'ws_disconnections_total', { route: '/echo', reason: 'closed' }), 0)
  t.equal(await sample(registry, 'ws_connection_duration_seconds_count', { route: '/echo' }), 2)

  t.equal(await refusedStatus(`ws://127.0.0.1:${port}/echo`), 503)
  t.equal(await sample(registry, 'ws_connections_rejected_total', { reason: 'draining' }), 1)
  t.equal(await sample(registry, 'ws_connections_rejected_total', { reason: 'full' }), 0)
})

t.test('full: rejected{full}', async (t) => {
  const { app, url, registry } = await metricsApp(t, { maxConnections: 1 })
  await connect(t, url + '/echo')
  await until(() => app.wsConnections.size === 1)
  for (let i = 0; i < 2; i++) {
    t.equal(await refusedStatus(url + '/echo'), 503)
  }
  t.equal(await sample(registry, 'ws_connections_rejected_total', { reason: 'full' }), 2)
  t.equal(await sample(registry, 'ws_connections_rejected_total', { reason: 'draining' }), 0)
  t.equal(await sample(registry, 'ws_connections_accepted_total', { route: '/echo' }), 1)
})

t.test('every name, type and label of the table; route is the URL pattern; no per-connection label', async (t) => {
  const { app, url, registry } = await metricsApp(t, { interval: 100 }, (app) => {
    app.get('/room/:id', { websocket: true }, echo)
  })
  await connect(t, url + '/room/1')
  await connect(t, url + '/room/2')
  await until(() => app.wsConnections.size === 2)
  await sleep(250)
  t.equal(await sample(registry, 'ws_connections', { route: '/room/:id' }), 2)
  const all = await registry.getMetricsAsJSON()
  const types = Object.fromEntries(all.map((m) => [m.name, String(m.type)]))
  t.same(types, {
    ws_connections: 'gauge',
    ws_connections_accepted_total: 'counter',
    ws_connections_rejected_total: 'counter',
    ws_disconnections_total: 'counter',
    ws_heartbeats_sent_total: 'counter',
    ws_heartbeats_skipped_total: 'counter',
    ws_heartbeat_timeouts_total: 'counter',
    ws_heartbeat_rtt_seconds: 'histogram',
    ws_connection_duration_seconds: 'histogram',
    ws_broadcast_skipped_total: 'counter',
    ws_draining: 'gauge'
  })
  const labels: Record<string, string[]> = {}
  for (const m of all) {
    const names = new Set<string>()
    for (const v of (m as unknown as { values: Array<{ labels: Record<string, unknown> }> }).values) for (const k of Object.keys(v.labels)) if (k !== 'le') names.add(k)
    labels[m.name] = [...names].sort()
  }
  t.same(labels, {
    ws_connections: ['route'],
    ws_connections_accepted_total: ['route'],
    ws_connections_rejected_total: ['reason'],
    ws_disconnections_total: ['reason', 'route'],
    ws_heartbeats_sent_total: ['route'],
    ws_heartbeats_skipped_total: ['route'],
    ws_heartbeat_timeouts_total: ['route'],
    ws_heartbeat_rtt_seconds: ['route'],
    ws_connection_duration_seconds: ['route'],
    ws_broadcast_skipped_total: ['route'],
    ws_draining: []
  }, 'only route and reason')
  const text = await registry.metrics()
  for (const conn of app.wsConnections) t.notMatch(text, conn.id, 'no connection id in any series')
  t.notMatch(text, '/room/1')
})

t.test('the per-route counters are one object per route, shared by its connections', async (t) => {
  const { app, url } = await metricsApp(t, {}, (app) => {
    app.get('/a', { websocket: true }, echo)
    app.get('/b', { websocket: true }, echo)
  })
  await connect(t, url + '/a')
  await connect(t, url + '/a')
  await connect(t, url + '/b')
  await until(() => app.wsConnections.size === 3)
  const lifecycle = internalsOf(app.wsConnections) as unknown as Lifecycle
  const [a1, a2] = [...lifecycle.states('/a')]
  const [b] = [...lifecycle.states('/b')]
  t.ok(a1.observer !== undefined && a1.observer === a2.observer)
  t.not(a1.observer, b.observer)
})

t.test('prefix: every name starts with it', async (t) => {
  const registry = new Registry()
  const { app, url } = await startApp(t, { metrics: { registry, prefix: 'edge:ws_' } }, (app) => {
    app.get('/echo', { websocket: true }, echo)
  })
  await connect(t, url + '/echo')
  await until(() => app.wsConnections.size === 1)
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name)
  t.equal(names.length, 11)
  t.ok(names.every((n) => n.startsWith('edge:ws_')), names.join(' '))
  t.equal(await sample(registry, 'edge:ws_connections', { route: '/echo' }), 1)
})

t.test('a heartbeat whose send failed is not counted as sent', async (t) => {
  const { url, registry } = await metricsApp(t, { interval: 100, timeout: 1000 }, (app) => {
    app.get('/json', { websocket: true, heartbeat: { mode: 'json', json: { payload: () => { throw new Error('no payload') } } } }, echo)
    app.get('/frame', { websocket: true }, echo)
  })
  await connect(t, url + '/json')
  await connect(t, url + '/frame')
  await sleep(450)
  t.equal(await sample(registry, 'ws_heartbeats_sent_total', { route: '/json' }), 0, 'every JSON ping threw in json.payload')
  t.ok((await sample(registry, 'ws_heartbeats_sent_total', { route: '/frame' }) as number) >= 2, 'the frame route beside it counts')
})

t.test('conn.ping(): a heartbeat sent, and its answer an RTT observation', async (t) => {
  const { app, url, registry } = await metricsApp(t, { interval: 60_000, timeout: 1000 })
  await connect(t, url + '/echo')
  await until(() => app.wsConnections.size === 1)
  const [conn] = [...app.wsConnections]
  await conn.ping()
  await conn.ping()
  t.equal(await sample(registry, 'ws_heartbeats_sent_total', { route: '/echo' }), 2, 'no scheduled heartbeat within 60 s: both are the pings')
  t.equal(await sample(registry, 'ws_heartbeat_rtt_seconds_count', { route: '/echo' }), 2)
})

t.test('broadcast(): sockets skipped or closed for backpressure are ws_broadcast_skipped_total', async (t) => {
  for (const closeOnBackpressureLimit of [false, true]) {
    const { app, url, registry } = await metricsApp(t, { maxBackpressure: 64 * 1024, closeOnBackpressureLimit, closeTimeout: 200 })
    const ws = await connect(t, url + '/echo')
    ;(ws as unknown as { _socket: Socket })._socket.pause()
    await until(() => app.wsConnections.size === 1)
    const [conn] = [...app.wsConnections]
    while (conn.socket.bufferedAmount < 64 * 1024) conn.socket.send(Buffer.alloc(4 * 1024 * 1024, 1))
    t.equal(app.wsConnections.broadcast('x'), 0)
    t.equal(app.wsConnections.broadcast('y'), 0)
    const want = closeOnBackpressureLimit ? 1 : 2
    t.equal(await sample(registry, 'ws_broadcast_skipped_total', { route: '/echo' }), want, `closeOnBackpressureLimit ${closeOnBackpressureLimit}`)
    ws.terminate()
    await app.close()
  }
})
