import t from 'tap'
import { fork, type ChildProcess } from 'node:child_process'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once, sleep, startApp } from './helpers/index.js'

// The peer runs in its own process: its event loop keeps answering pings while the
// server's loop is blocked, which is the situation the plugin must not mistake for death.
const peerSource = `
const WebSocket = require(${JSON.stringify(require.resolve('ws'))})
const ws = new WebSocket(process.argv[2])
ws.on('open', () => process.send('open'))
ws.on('close', (code) => process.send('close ' + code))
process.on('message', () => ws.close())
`

t.test('a child-process peer survives the server blocking its event loop for twice the timeout', { timeout: 20_000 }, async (t) => {
  const interval = 100
  const timeout = 150
  const { app, url } = await startApp(t, { interval, timeout }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  const dir = mkdtempSync(join(tmpdir(), 'ws-heartbeat-'))
  const file = join(dir, 'peer.js')
  writeFileSync(file, peerSource)
  const peer: ChildProcess = fork(file, [`${url}/echo`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  t.teardown(() => { peer.kill('SIGKILL') })
  const closes: string[] = []
  peer.on('message', (m) => { if (String(m).startsWith('close')) closes.push(String(m)) })
  await once(peer, 'message', 5000)
  t.equal(app.wsConnections.size, 1)

  // Block right after a heartbeat left, before its answer could be read: the verdict
  // falls due inside the stall, and the pong is waiting in the socket when it is judged.
  const conn = [...app.wsConnections][0]
  const ping = conn.socket.ping
  let stalls = 0
  conn.socket.ping = function (...args: Parameters<typeof ping>) {
    ping.apply(this, args)
    if (stalls < 3) {
      stalls++
      // In the check phase: the next phase to run afterwards is the timers phase, where
      // the verdict is due, before the poll phase has read the pong.
      setImmediate(() => {
        const end = Date.now() + 2 * timeout
        while (Date.now() < end) { /* the server's loop is stuck */ }
      })
    }
  }
  await sleep(interval * 12)
  t.equal(stalls, 3)
  t.equal(app.wsConnections.stats().timedOut, 0, 'no false death')
  t.equal(app.wsConnections.size, 1)
  t.same(closes, [])
})
