import t from 'tap'
import type { WebSocket } from 'ws'
import type { WsConnection } from '../../lib/index.js'
import { sleep, until } from '../helpers/index.js'
import {
  assertControlHealthy, controlClient, faultApp, interval, spawnPeers, timeout, type FaultApp, type Peers, type Tap
} from '../fixtures/fault-kit.js'

const STALL = 2 * timeout
const ANSWER_DELAY = 20

function busy (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* the server's event loop is blocked */ }
}

/** Calls `onHeartbeat(conn)` right after each heartbeat (ping frame or JSON ping) leaves. */
function watchHeartbeats (peers: WsConnection[], onHeartbeat: (conn: WsConnection) => void): Map<WsConnection, number> {
  const sentAt = new Map<WsConnection, number>()
  for (const conn of peers) {
    const socket = conn.socket as WebSocket & Record<'ping' | 'send', (...args: any[]) => void>
    for (const method of ['ping', 'send'] as const) {
      const original = socket[method].bind(socket)
      socket[method] = (...args: any[]) => {
        original(...args)
        if (method === 'send' && !String(args[0]).startsWith('{"type":"ping"')) return
        sentAt.set(conn, Date.now())
        onHeartbeat(conn)
      }
    }
  }
  return sentAt
}

/** Heartbeats sent and not answered yet whose verdict comes due before `end`. */
function unansweredBefore (peers: WsConnection[], sentAt: Map<WsConnection, number>, end: number): number {
  return peers.filter((c) => {
    const sent = sentAt.get(c) ?? 0
    return sent > c.lastSeen && sent + timeout <= end
  }).length
}

async function setup (t: Tap, opts: Record<string, unknown> = {}) {
  const f = await faultApp(t, opts)
  const control = await controlClient(t, f)
  // Peers answer after 20 ms, a modest network round trip (a tenth of timeout).
  const children = await spawnPeers(t, f.url, [{ path: '/echo', count: 10 }, { path: '/json', count: 10 }], ANSWER_DELAY)
  await until(() => f.app.wsConnections.size === 21, 10000, 'peers tracked')
  const peers = [...f.app.wsConnections].filter((c) => c !== control.conn)
  await until(() => peers.every((c) => c.latency !== null), 2000, 'every peer answered a heartbeat')
  return { f, control, children, peers }
}

function assertNoFalseDeath (t: Tap, f: FaultApp, peers: WsConnection[], children: Peers): void {
  for (const [id, at] of f.timedOutAt) {
    const c = peers.find((p) => p.id === id)
    if (c !== undefined) t.comment(`false death ${id} ${c.route} at ${at % 100000}: lastSeen ${c.lastSeen % 100000}, last bytes ${(f.lastBytesAt.get(c.socket) ?? 0) % 100000}`)
  }
  t.equal(f.timedOutAt.size, 0, 'zero timeouts')
  t.equal(f.app.wsConnections.stats().timedOut, 0)
  t.same(f.disconnects, [], 'no disconnect')
  t.equal(f.app.wsConnections.size, 21, 'all still connected')
  t.same(f.app.wsConnections.stats().routes, { '/echo': 11, '/json': 10 })
  t.ok(peers.every((conn) => conn.socket.readyState === conn.socket.OPEN), 'every server socket open')
  t.same(children.closes, [], 'no peer saw a close')
}

// The peers live in a child process: their event loop keeps answering while the
// server's is blocked, so their answers wait in the server's socket buffers. A verdict
// that comes due during the stall must read them before judging.
t.test('the server blocked longer than timeout right after a heartbeat, peers answering: no false deaths', { timeout: 20000 }, async (t) => {
  const { f, control, children, peers } = await setup(t)
  let onHeartbeat: (() => void) | null = null
  const sentAt = watchHeartbeats(peers, () => { if (onHeartbeat !== null) onHeartbeat() })

  // Three stalls, each started right after a heartbeat left, from different phases of the
  // event loop: check (setImmediate), timers (setTimeout 0) and poll (a slow message handler).
  const schedulers: Record<string, (block: () => void) => void> = {
    check: (block) => setImmediate(block),
    timers: (block) => setTimeout(block, 0),
    poll: (block) => control.conn.socket.once('message', block)
  }
  const stalls: number[] = []
  const unanswered: number[] = []
  for (const [phase, schedule] of Object.entries(schedulers)) {
    await new Promise<void>((resolve) => {
      onHeartbeat = () => {
        onHeartbeat = null
        schedule(() => {
          const start = Date.now()
          unanswered.push(unansweredBefore(peers, sentAt, start + STALL))
          busy(STALL)
          stalls.push(Date.now() - start)
          t.comment(`stall in ${phase}: ${unanswered.at(-1)} unanswered heartbeats came due during it`)
          resolve()
        })
      }
    })
    // Let every verdict that came due during the stall, and the next rounds, play out.
    await sleep(interval + timeout + 100)
  }

  t.ok(stalls.every((ms) => ms >= STALL), `blocked ${stalls.join(', ')} ms (timeout ${timeout})`)
  // The check and timers stalls start within a few ms of the heartbeat, before any answer
  // (20 ms away) can be read; the poll stall waits for the next control message, up to
  // 50 ms, so its count is only reported.
  t.ok(unanswered[0] > 0 && unanswered[1] > 0, `verdicts of unanswered heartbeats came due during the stalls (${unanswered.join(', ')})`)
  assertNoFalseDeath(t, f, peers, children)
  // The control client lived through the stalls too; its round trips include them.
  await assertControlHealthy(t, f, control, STALL + 300)
})

// A stall in the middle of a heartbeat round (a slow `json.payload`, a GC pause, a round
// of many thousand connections): the heartbeats sent after it leave late, and must still
// get `timeout` ms to be answered.
t.test('the server blocked longer than timeout inside a heartbeat round: no false deaths', { timeout: 20000 }, async (t) => {
  let stallNext = false
  let stallEndedAt = 0
  const payload = (): object => {
    if (stallNext) {
      stallNext = false
      busy(STALL)
      stallEndedAt = Date.now()
    }
    return {}
  }
  const { f, control, children, peers } = await setup(t, { json: { payload } })
  const sent: number[] = []
  watchHeartbeats(peers, () => { sent.push(Date.now()) })

  // A first stall lines every connection's heartbeat up in the same round.
  await new Promise<void>((resolve) => setImmediate(() => { busy(STALL); resolve() }))
  await sleep(interval + timeout + 100)
  const lateBefore = f.timedOutAt.size

  // The slow payload runs for one JSON connection of the round; only when others come
  // after it in the same round does the stall land mid-round. Which one it is depends on
  // the order the answers arrived in, so try a few rounds until one does.
  let late = 0
  for (let attempt = 1; attempt <= 5 && late === 0; attempt++) {
    stallNext = true
    await until(() => !stallNext, 2000, 'slow payload called')
    await sleep(interval + timeout + 100)
    // The rest of the round left right after the stall, in the same turn of the event loop.
    late = sent.filter((at) => at >= stallEndedAt && at <= stallEndedAt + 2).length
    t.comment(`attempt ${attempt}: ${late} heartbeats of the round left after the stall`)
    t.equal(f.timedOutAt.size, 0, `no false death after stall ${attempt}`)
  }
  t.ok(late > 0, 'a stall landed inside a heartbeat round')
  t.equal(lateBefore, 0, 'no false death after the first stall')
  assertNoFalseDeath(t, f, peers, children)
  await assertControlHealthy(t, f, control, STALL + 300)
})
