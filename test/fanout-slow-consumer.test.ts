import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setImmediate as turn } from 'node:timers/promises'
import type { Test } from 'tap'
import { fanout } from '../lib/fanout.js'
import { until } from './helpers/index.js'
import { broadcastApp, pair } from './helpers/fanout.js'

// A peer that stops reading while the others keep receiving: what the server holds for it
// is measured (heap + array buffers after a full GC), not assumed from bufferedAmount.

t.setTimeout(60_000)
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const SIZE = 64 * 1024
const MESSAGES = 400 // 25.6 MiB to every peer
const LIMIT = 256 * 1024

function held (): number {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

async function run (t: Test, maxBackpressure: number): Promise<{ grew: number, skipped: number, maxBuffered: number }> {
  const { app, url } = await broadcastApp(t)
  const fast = [await pair(t, app, url), await pair(t, app, url)]
  const slow = await pair(t, app, url)
  slow.client.pause() // stops reading from its TCP socket
  const payload = Buffer.alloc(SIZE, 7)
  const base = held()
  let skipped = 0
  let maxBuffered = 0
  for (let i = 0; i < MESSAGES; i++) {
    payload.writeUInt32BE(i, 0)
    fanout(app.websocketServer.clients, payload, { maxBackpressure, onSkip: () => { skipped++ } })
    maxBuffered = Math.max(maxBuffered, slow.server.bufferedAmount)
    // Lets the fast peers' sockets drain, as a real server's event loop would between messages.
    if (i % 4 === 3) await turn()
  }
  await until(() => fast.every((p) => p.got.length === MESSAGES), 20_000, 'the fast peers got everything')
  for (const p of fast) {
    t.ok(p.got.every((m, i) => m.binary && m.data.length === SIZE && m.data.readUInt32BE(0) === i), 'every message intact and in order')
    p.got.length = 0 // what the test's own clients received is not the server's
  }
  const grew = held() - base
  t.equal(slow.got.length, 0, 'the slow peer read nothing')
  return { grew, skipped, maxBuffered }
}

t.test('a peer that stops reading: held memory stays bounded by maxBackpressure, the others get every message', async (t) => {
  const r = await run(t, LIMIT)
  t.comment(`maxBackpressure ${LIMIT} B: held +${(r.grew / 2 ** 20).toFixed(1)} MiB, slow socket bufferedAmount max ${r.maxBuffered} B, skipped ${r.skipped}/${MESSAGES}`)
  t.ok(r.maxBuffered < LIMIT + SIZE + 16, 'bufferedAmount never passes the limit by more than one frame')
  t.ok(r.skipped > MESSAGES / 2, 'most messages were skipped for the slow peer')
  // The limit plus one frame, with generous room for allocator noise.
  t.ok(r.grew < LIMIT + SIZE + 4 * 2 ** 20, `held memory grew ${r.grew} B`)
})

t.test('the same peer without a limit: held memory grows with every message (the bound above is real)', async (t) => {
  const r = await run(t, Infinity)
  t.comment(`maxBackpressure Infinity: held +${(r.grew / 2 ** 20).toFixed(1)} MiB, slow socket bufferedAmount max ${r.maxBuffered} B`)
  t.equal(r.skipped, 0)
  t.ok(r.grew > 10 * 2 ** 20, `held memory grew ${r.grew} B`)
})
