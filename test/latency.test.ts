import t from 'tap'
import WebSocket from 'ws'
import { connect, sleep, startApp, until } from './helpers/index.js'

// Answers slower than the interval: each answer belongs to the oldest unanswered
// heartbeat (pongs answer pings in order), so latency is the real round trip.
const ANSWER_DELAY = 350

t.test('frame: a peer answering every ping 350 ms late (interval 200) reads latency ~350 ms', { timeout: 10000 }, async (t) => {
  const { app, url } = await startApp(t, { interval: 200, timeout: 600 }, (app) => {
    app.get('/', { websocket: true }, () => {})
  })
  const ws = await connect(t, url, { autoPong: false })
  ws.on('ping', (data) => { setTimeout(() => { if (ws.readyState === WebSocket.OPEN) ws.pong(data) }, ANSWER_DELAY) })
  await until(() => app.wsConnections.size === 1, 2000)
  const conn = [...app.wsConnections][0]
  await sleep(1500)
  const latency = conn.latency as number
  t.ok(latency !== null && latency >= ANSWER_DELAY - 10 && latency <= ANSWER_DELAY + 120, `latency ${latency} ms (answers ${ANSWER_DELAY} ms late)`)
  t.equal(app.wsConnections.stats().timedOut, 0)
})

t.test('json: pongs echoing older pings 350 ms late (interval 200) give latency ~350 ms', { timeout: 10000 }, async (t) => {
  const { app, url } = await startApp(t, { interval: 200, timeout: 600, mode: 'json' }, (app) => {
    app.get('/', { websocket: true }, () => {})
  })
  const ws = await connect(t, url)
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString())
    if (msg.type !== 'ping') return
    setTimeout(() => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp })) }, ANSWER_DELAY)
  })
  await until(() => app.wsConnections.size === 1, 2000)
  const conn = [...app.wsConnections][0]
  await sleep(1500)
  const latency = conn.latency as number
  t.ok(latency !== null && latency >= ANSWER_DELAY - 10 && latency <= ANSWER_DELAY + 120, `latency ${latency} ms (answers ${ANSWER_DELAY} ms late)`)
  t.equal(app.wsConnections.stats().timedOut, 0)
})
