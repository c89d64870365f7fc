import t from 'tap'
import { client, next, server, sleep, until } from '../helpers/client.js'

for (const mode of ['json', 'frame'] as const) {
  t.test(`${mode} mode: a silent server is dropped within interval + timeout, then the client reconnects`, async (t) => {
    // autoPong: false, and the server never sends anything: no proof of life at all.
    const { wss, url } = await server(t, { autoPong: false })
    const serverCloses: unknown[] = []
    wss.on('connection', (ws) => ws.on('close', (code, reason) => serverCloses.push([code, reason.toString()])))
    const c = client(t, url, { mode, interval: 100, timeout: 100, reconnect: { initialDelay: 50, jitter: 0 } })
    const events: string[] = []
    for (const name of ['open', 'timeout', 'close', 'reconnecting'] as const) c.on(name, () => events.push(name))
    t.equal(c.state, 'connecting')
    await next(c, 'open')
    const openedAt = performance.now()
    t.equal(c.state, 'open')
    const closed = next(c, 'close')
    const reconnecting = next(c, 'reconnecting')
    await next(c, 'timeout')
    const elapsed = performance.now() - openedAt
    t.ok(elapsed >= 100, `not dead before timeout after the last proof of life (${elapsed.toFixed(0)} ms)`)
    t.ok(elapsed <= 200 + 100, `dead within interval + timeout + 100 ms slack (${elapsed.toFixed(0)} ms)`)
    t.same(await closed, [4000, 'heartbeat timeout'])
    t.same(await reconnecting, [{ attempt: 1, delay: 50, code: 4000, reason: 'heartbeat timeout' }])
    t.equal(c.state, 'reconnecting')
    t.equal(c.latency, null)
    await next(c, 'open')
    t.equal(c.state, 'open')
    t.same(events, ['open', 'timeout', 'close', 'reconnecting', 'open'])
    await until(t, 'the server saw close frame 4000', () => serverCloses.length === 1)
    t.same(serverCloses, [[4000, 'heartbeat timeout']])
    t.equal(wss.clients.size, 1, 'only the new connection is left')
  })
}

t.test('json mode: heartbeats, answers to server pings, hidden heartbeat messages, latency', async (t) => {
  const { wss, url } = await server(t)
  const received: string[] = []
  const bigPing = JSON.stringify({ type: 'ping', timestamp: 1, pad: 'x'.repeat(1024) })
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = data.toString()
      received.push(text)
      const msg = JSON.parse(text)
      if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }))
    })
    for (const data of ['hello', '{"type":"ping","timestamp":123}', '{"type":"ping"}',
      '  {"type":"pong","timestamp":1}\n', '{"type":"chat"}', 'not json {', '[1,2]', bigPing]) ws.send(data)
    ws.send(Buffer.from([1, 2, 3]))
    ws.send('end')
  })
  const c = client(t, url, { interval: 100, timeout: 500 })
  const messages: unknown[] = []
  c.on('message', (data) => messages.push(data))
  const before = Date.now()
  const [latency] = await next(c, 'latency')
  t.same(messages, ['hello', '{"type":"chat"}', 'not json {', '[1,2]', bigPing, Buffer.from([1, 2, 3]), 'end'],
    'everything but heartbeats reaches message listeners, in order, binary as a Buffer')
  t.ok(typeof latency === 'number' && latency >= 0 && latency < 100, `latency ${latency} ms`)
  t.equal(c.latency, latency)
  t.same(received.slice(0, 2), ['{"type":"pong","timestamp":123}', '{"type":"pong"}'],
    'server pings answered at once, the timestamp echoed')
  const ping = JSON.parse(received[2])
  t.same(Object.keys(ping), ['type', 'timestamp'])
  t.equal(ping.type, 'ping')
  t.ok(ping.timestamp >= before && ping.timestamp <= Date.now(), 'timestamp is Date.now()')
  t.equal(received.length, 3, 'the big message shaped like a ping was not answered')
})

t.test('json mode: renamed fields and payload', async (t) => {
  const { wss, url } = await server(t)
  const received: Array<Record<string, unknown>> = []
  wss.on('connection', (ws) => ws.on('message', (data) => {
    const msg = JSON.parse(data.toString())
    received.push(msg)
    if (msg.kind === 'hb') ws.send(JSON.stringify({ kind: 'hb-ack', ts: msg.ts }))
  }))
  const c = client(t, url, {
    interval: 100,
    json: { typeKey: 'kind', ping: 'hb', pong: 'hb-ack', timestampKey: 'ts', payload: () => ({ room: 'a' }) }
  })
  const messages: unknown[] = []
  c.on('message', (data) => messages.push(data))
  await next(c, 'latency')
  t.same(Object.keys(received[0]), ['kind', 'ts', 'room'])
  t.same(messages, [], 'renamed pongs are hidden')
})

t.test('frame mode: ping frames carry the latency, server ping frames are proof of life', async (t) => {
  const { wss, url } = await server(t)
  const pings: string[] = []
  wss.on('connection', (ws) => ws.on('ping', (data) => pings.push(data.toString())))
  const c = client(t, url, { mode: 'frame', interval: 100, timeout: 100 })
  const [latency] = await next(c, 'latency')
  t.ok(latency >= 0 && latency < 100, `latency ${latency} ms`)
  t.match(pings[0], /^\d{13}$/, 'the ping payload is the send time')
})

t.test('any inbound frame is proof of life', async (t) => {
  t.test('frame mode, a server that never answers pings but talks', async (t) => {
    const { wss, url } = await server(t, { autoPong: false })
    wss.on('connection', (ws) => {
      const timer = setInterval(() => ws.send('tick'), 40)
      ws.on('close', () => clearInterval(timer))
    })
    const c = client(t, url, { mode: 'frame', interval: 100, timeout: 100 })
    c.on('timeout', () => t.fail('declared dead'))
    await next(c, 'open')
    await sleep(800)
    t.equal(c.state, 'open')
  })
  t.test('json mode, a server that only sends ping frames', async (t) => {
    const { wss, url } = await server(t)
    wss.on('connection', (ws) => {
      const timer = setInterval(() => ws.ping(), 40)
      ws.on('close', () => clearInterval(timer))
    })
    const c = client(t, url, { mode: 'json', interval: 100, timeout: 100 })
    c.on('timeout', () => t.fail('declared dead'))
    await next(c, 'open')
    await sleep(800)
    t.equal(c.state, 'open')
  })
})

t.test('a stalled event loop is a late timer, not a dead server', async (t) => {
  const { wss, url } = await server(t)
  let stalled = false
  wss.on('connection', (ws) => ws.on('message', (data) => {
    const msg = JSON.parse(data.toString())
    if (msg.type !== 'ping') return
    if (!stalled) {
      // Freeze the whole process (both ends) for 600 ms with the client's ping unanswered,
      // as a sleeping laptop would; the answer then takes 30 ms: after the verdict hop.
      stalled = true
      const end = Date.now() + 600
      while (Date.now() < end);
    }
    setTimeout(() => ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp })), 30)
  }))
  const c = client(t, url, { interval: 100, timeout: 100 })
  c.on('timeout', () => t.fail('declared dead after a stall'))
  await next(c, 'open')
  await sleep(1200)
  t.ok(stalled, 'the process stalled')
  t.equal(c.state, 'open')
  t.type(c.latency, 'number')
})

t.test('mode off: no heartbeats, JSON pings are application messages', async (t) => {
  const { wss, url } = await server(t, { autoPong: false })
  const received: string[] = []
  wss.on('connection', (ws) => {
    ws.on('message', (data) => received.push(data.toString()))
    ws.on('ping', () => received.push('ping frame'))
    ws.send('{"type":"ping","timestamp":1}')
  })
  const c = client(t, url, { mode: 'off', interval: 50, timeout: 50 })
  const [message] = await next(c, 'message')
  t.equal(message, '{"type":"ping","timestamp":1}')
  await sleep(300)
  t.same(received, [], 'nothing sent, nothing answered')
  t.equal(c.state, 'open', 'never declared dead')
})
