import t from 'tap'
import WebSocket from 'ws'
import { connect, logLines, sleep, startApp, until } from './helpers/index.js'
import type { WsConnection } from '../lib/index.js'

t.test('a json.payload that throws for one connection is logged and starts no verdict', { timeout: 10000 }, async (t) => {
  let victim: string | null = null
  const { lines, stream } = logLines()
  const { app, url } = await startApp(t, {
    interval: 100,
    timeout: 200,
    mode: 'json',
    json: { payload: (conn: WsConnection) => { if (conn.id === victim) throw new Error('boom'); return {} } }
  }, (app) => {
    app.get('/', { websocket: true }, () => {})
  }, { logger: { level: 'error', stream } })
  const ids: string[] = []
  app.wsConnections.on('connect', (conn) => { ids.push(conn.id) })
  const closes: number[] = []
  const ws = await connect(t, url)
  ws.on('close', (code) => closes.push(code))
  const got: string[] = []
  ws.on('message', (data) => got.push(data.toString()))
  await until(() => ids.length === 1, 2000)
  victim = ids[0]
  await sleep(800)
  t.same(closes, [], 'not closed')
  t.equal(ws.readyState, WebSocket.OPEN)
  t.equal(app.wsConnections.stats().timedOut, 0, 'never declared dead')
  t.ok(lines.some((l) => l.includes('sending a heartbeat failed')), 'the failure is logged')
  // Once the payload works again, heartbeats come on schedule.
  victim = null
  const before = got.length
  await until(() => got.length > before, 1000, 'a heartbeat after the payload recovers')
})
