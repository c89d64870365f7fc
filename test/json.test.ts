import t from 'tap'
import { collect, connect, once, sleep, startApp, until } from './helpers/index.js'
import type { WsConnection } from '../lib/index.js'

const interval = 100
const timeout = 150

// A handler that echoes everything it gets: a heartbeat reaching it would come back.
function echoRoutes (app: import('fastify').FastifyInstance): void {
  app.get('/chat', { websocket: true, heartbeat: { mode: 'json' } }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
  app.get('/echo', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
  app.get('/raw', { websocket: true, heartbeat: false }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
}

t.test('json mode: server pings carry a timestamp; a matching pong sets latency', async (t) => {
  const { app, url } = await startApp(t, { interval, timeout }, echoRoutes)
  const ws = await connect(t, `${url}/chat`)
  let frames = 0
  ws.on('ping', () => { frames++ })
  const [data] = await once<[Buffer]>(ws, 'message', 1000)
  const ping = JSON.parse(data.toString())
  t.equal(ping.type, 'ping')
  t.type(ping.timestamp, 'number')
  t.ok(Math.abs(ping.timestamp - Date.now()) < 1000)
  t.same(Object.keys(ping), ['type', 'timestamp'])
  ws.send(JSON.stringify({ type: 'pong', timestamp: ping.timestamp }))
  const conn = [...app.wsConnections][0] as WsConnection
  await until(() => conn.latency !== null, 1000, 'latency')
  t.ok((conn.latency as number) >= 0)
  t.equal(frames, 0, 'no ping frames on a json route')
  t.equal(conn.mode, 'json')
})

t.test('json mode: a peer that answers json pings stays; one that does not is dropped in the bound', async (t) => {
  const { app, url } = await startApp(t, { interval, timeout }, echoRoutes)
  const good = await connect(t, `${url}/chat`)
  good.on('message', (data) => {
    const msg = JSON.parse(data.toString())
    if (msg.type === 'ping') good.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }))
  })
  // ws answers ping frames by itself, but a json route sends none: this peer is silent.
  const silent = await connect(t, `${url}/chat`)
  const start = Date.now()
  const [code] = await once<[number]>(silent, 'close', 3000)
  const elapsed = Date.now() - start
  t.equal(code, 1011)
  t.ok(elapsed >= timeout && elapsed <= interval + timeout + 60, `dropped after ${elapsed} ms`)
  await sleep(interval * 10)
  t.equal(good.readyState, good.OPEN)
  t.equal(app.wsConnections.count('/chat'), 1)
})

t.test('json mode: a pong that does not echo the last timestamp proves life but leaves latency alone', async (t) => {
  const { app, url } = await startApp(t, { interval, timeout }, echoRoutes)
  const ws = await connect(t, `${url}/chat`)
  let pings = 0
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString())
    if (msg.type !== 'ping') return
    pings++
    ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp - 1 }))
  })
  await sleep(interval * 6)
  t.ok(pings >= 3, `${pings} pings answered with a wrong timestamp`)
  t.equal(ws.readyState, ws.OPEN, 'never declared dead')
  t.equal(app.wsConnections.stats().timedOut, 0)
  t.equal(([...app.wsConnections][0] as WsConnection).latency, null, 'latency unchanged')
})

t.test('peer-initiated json pings are answered at once on json and frame routes, never delivered', async (t) => {
  const { url } = await startApp(t, { interval: 10_000, timeout: 10_000 }, echoRoutes)
  for (const route of ['/chat', '/echo']) {
    const ws = await connect(t, `${url}${route}`)
    const got = collect(ws)
    ws.send('{"type":"ping","timestamp":12345}')
    ws.send('  {"type":"ping","timestamp":"abc","extra":1}\n')
    ws.send('{"type":"ping"}')
    ws.send('{"type":"pong","timestamp":1}')
    ws.send('after')
    await until(() => got.includes('after'), 1000, `${route} echo`)
    t.same(got, ['{"type":"pong","timestamp":12345}', '{"type":"pong","timestamp":"abc"}', '{"type":"pong"}', 'after'], route)
  }
})

t.test('mode off routes pass json heartbeats to the handler untouched', async (t) => {
  const { url } = await startApp(t, {}, echoRoutes)
  const ws = await connect(t, `${url}/raw`)
  const got = collect(ws)
  ws.send('{"type":"ping","timestamp":1}')
  await until(() => got.length === 1, 1000)
  t.same(got, ['{"type":"ping","timestamp":1}'])
})

t.test('everything that is not a heartbeat reaches the handler untouched and in order', async (t) => {
  const { url } = await startApp(t, { interval: 10_000, timeout: 10_000 }, echoRoutes)
  const ws = await connect(t, `${url}/chat`)
  const got: Array<string | Buffer> = []
  ws.on('message', (data: Buffer, isBinary) => got.push(isBinary ? data : data.toString()))
  const big = JSON.stringify({ type: 'ping', timestamp: 1, pad: 'x'.repeat(1100) })
  const exactly1024 = JSON.stringify({ type: 'ping', pad: 'x'.repeat(1024 - 24) })
  const over1024 = JSON.stringify({ type: 'ping', pad: 'x'.repeat(1025 - 24) })
  const sent: Array<string | Buffer> = [
    '{"type":"chat","text":"ping"}',
    '{"type":"ping"',
    'ping',
    '["ping"]',
    '{"kind":"ping"}',
    big,
    over1024,
    Buffer.from('{"type":"ping","timestamp":1}'),
    '{"type":"pingx"}',
    'last'
  ]
  t.equal(Buffer.byteLength(exactly1024), 1024)
  t.equal(Buffer.byteLength(over1024), 1025)
  for (const message of sent) ws.send(message)
  ws.send(exactly1024)
  ws.send('really last')
  await until(() => got.includes('really last'), 2000)
  const expected = [...sent, '{"type":"pong"}', 'really last']
  t.same(got.map(String), expected.map(String), 'order kept, heartbeats of <= 1024 bytes answered and hidden')
})

t.test('json option renames fields, merged per route; payload adds fields', async (t) => {
  const { url } = await startApp(t, { interval, timeout, json: { typeKey: 'op', timestampKey: 'ts' } }, (app) => {
    app.get('/custom', {
      websocket: true,
      heartbeat: { mode: 'json', json: { ping: 'hb', pong: 'hb-ack', payload: (conn) => ({ route: conn.route, op: 'overwritten?' }) } }
    }, () => {})
  })
  const ws = await connect(t, `${url}/custom`)
  const got = collect(ws)
  await until(() => got.length > 0, 1000)
  const ping = JSON.parse(got[0])
  t.equal(ping.op, 'hb')
  t.type(ping.ts, 'number')
  t.equal(ping.route, '/custom')
  ws.send(JSON.stringify({ op: 'hb', ts: 7 }))
  await until(() => got.length > 1 && got.some((m) => m.includes('hb-ack')), 1000)
  t.ok(got.includes('{"op":"hb-ack","ts":7}'))
})

t.test('a throwing json payload is logged and does not break the heartbeat', async (t) => {
  const lines: string[] = []
  const stream = { write: (line: string) => { lines.push(line) } }
  const { app, url } = await startApp(t, { interval: 50, timeout: 100 }, (app) => {
    app.get('/bad', { websocket: true, heartbeat: { mode: 'json', json: { payload: () => { throw new Error('boom') } } } }, () => {})
    app.get('/good', { websocket: true }, () => {})
  }, { logger: { level: 'error', stream } })
  await connect(t, `${url}/bad`)
  const good = await connect(t, `${url}/good`)
  await sleep(300)
  t.ok(lines.some((l) => l.includes('sending a heartbeat failed')))
  t.equal(good.readyState, good.OPEN)
  t.equal(app.wsConnections.count('/good'), 1)
})
