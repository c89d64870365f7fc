import t, { type Test } from 'tap'
import { client, next, server } from '../helpers/client.js'

t.setTimeout(20_000)

const realNow = Date.now

/** A wall-clock step (NTP, a user changing the time) of `ms`, undone at teardown. */
function stepWallClock (t: Test, ms: number): void {
  const base = Date.now
  Date.now = () => base() + ms
  t.teardown(() => { Date.now = realNow })
}

for (const mode of ['json', 'frame'] as const) {
  for (const step of [3_600_000, -7_200_000]) {
    t.test(`${mode} mode: a ${step / 3_600_000} h wall-clock step between ping and pong leaves latency the real round trip`, async (t) => {
      // The server answers 50 ms late, after the step: a Date.now-based round trip reads
      // an hour (or 0, clamped), the real one about 50 ms.
      const { wss, url } = await server(t, { autoPong: false })
      const sent: number[] = []
      wss.on('connection', (ws) => {
        ws.on('ping', (data) => {
          sent.push(Number(data.toString()))
          stepWallClock(t, step)
          setTimeout(() => ws.pong(data), 50)
        })
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString())
          if (msg.type !== 'ping') return
          sent.push(msg.timestamp)
          stepWallClock(t, step)
          setTimeout(() => ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp })), 50)
        })
      })
      const before = realNow()
      const c = client(t, url, { mode, interval: 100, timeout: 1000, reconnect: false })
      const [latency] = await next(c, 'latency')
      t.ok(latency >= 45 && latency < 1000, `latency ${latency} ms`)
      t.equal(c.latency, latency)
      t.ok(sent[0] >= before && sent[0] <= realNow(), 'the ping on the wire carries Date.now() (before the step)')
    })
  }
}
