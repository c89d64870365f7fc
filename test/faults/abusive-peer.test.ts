import t from 'tap'
import { sleep, until } from '../helpers/index.js'
import { internalsOf } from '../../lib/manager.js'
import {
  assertControlHealthy, clientFrame, closeTimeout, controlClient, faultApp, health, rawPeer, spawnFlooder, type FaultApp, type FloodResult
} from '../fixtures/fault-kit.js'
import type { WsConnection } from '../../lib/index.js'

// Whoever connects next, once the control client is in.
function nextConnection (f: FaultApp): Promise<WsConnection> {
  return new Promise((resolve) => f.app.wsConnections.once('connect', resolve))
}

const invalid = [
  // 'G' = 0x47: RSV1 set without a negotiated extension.
  { name: 'garbage bytes', path: '/echo', bytes: Buffer.from('GARBAGE\r\n\r\n'), error: 'WS_ERR_UNEXPECTED_RSV_1' },
  // Opcode 0x3 is reserved for future non-control frames (RFC 6455 5.2).
  { name: 'a frame with a reserved opcode', path: '/json', bytes: clientFrame(0x83, Buffer.from('hi')), error: 'WS_ERR_INVALID_OPCODE' },
  // Client frames must be masked (RFC 6455 5.1).
  { name: 'an unmasked frame', path: '/json', bytes: Buffer.from([0x81, 0x02, 0x68, 0x69]), error: 'WS_ERR_EXPECTED_MASK' }
]

for (const { name, path, bytes, error } of invalid) {
  t.test(`a peer that sends ${name} on ${path} is closed with a protocol error`, { timeout: 20000 }, async (t) => {
    const f = await faultApp(t)
    const control = await controlClient(t, f)
    const connected = nextConnection(f)
    const peer = await rawPeer(t, f.port, path)
    const conn = await connected
    t.equal(f.app.wsConnections.size, 2)

    const sentAt = Date.now()
    peer.socket.write(bytes)
    await until(() => peer.closedAt !== 0, closeTimeout + 2000, 'peer socket closed')
    t.ok(peer.closedAt - sentAt < 100, `closed ${peer.closedAt - sentAt} ms after the bad bytes`)
    t.same(f.socketErrors.map((e) => e.code), [error], `ws reported ${error}`)
    const received = Buffer.concat(peer.received)
    const at = received.lastIndexOf(0x88)
    t.ok(at !== -1, 'a close frame was sent')
    t.equal(received.readUInt16BE(at + 2), 1002, 'close code 1002 (protocol error)')

    await until(() => f.app.wsConnections.size === 1, 1000, 'untracked')
    t.equal(f.app.wsConnections.get(conn.socket), undefined)
    t.same(f.app.wsConnections.stats().routes, { '/echo': 1 })
    t.equal(f.disconnects.length, 1, 'one disconnect')
    t.equal(f.disconnects[0].id, conn.id)
    t.equal(f.timedOutAt.size, 0, 'not a heartbeat death')
    t.equal(f.delivered.get(conn.socket)?.length, 0, 'nothing reached the handler')
    t.equal((await health(f.port)).status, 200, 'the process is fine')
    await sleep(closeTimeout)
    t.equal(internalsOf(f.app.wsConnections).heartbeats.pending <= 2, true, 'no timers piling up')
    await assertControlHealthy(t, f, control)
  })
}

// What the server spends on each ping is O(1), but 10 000 of them arrive in one burst of
// reads that `ws` parses without yielding. The yardstick is the same flood of the same
// messages on a route without heartbeats, echoed by the application: the plugin's
// answers must cost no more than twice that, and stay under 500 ms of delay when the
// machine is not already so loaded that `ws` alone takes longer than 200 ms.
t.test('a peer flooding 10 000 JSON pings on a JSON route', { timeout: 20000 }, async (t) => {
  const f = await faultApp(t)
  const control = await controlClient(t, f, '/json')

  async function flood (path: string): Promise<{ conn: WsConnection, result: FloodResult, worst: number }> {
    const connected = nextConnection(f)
    const flooder = await spawnFlooder(t, f.url + path, { count: 10_000 })
    const conn = await connected
    await sleep(100)
    const floodAt = Date.now()
    flooder.go()
    const result = await flooder.done
    const floodEnd = Date.now()
    // Keep measuring the control a little past the flood.
    await sleep(100)
    t.ok(control.lastEchoAt >= floodEnd - 100, `control echoes during the flood on ${path}`)
    return { conn, result, worst: control.maxRttSince(floodAt) }
  }

  const baseline = await flood('/plain')
  t.equal(baseline.result.echoes, 10_000, 'yardstick: the application echoed 10 000 messages')
  const { conn, result, worst } = await flood('/json')
  const bound = Math.max(500, 2 * baseline.worst + 100)
  t.comment(`fault=flood ${result.pongs} pongs in ${result.ms} ms; control max round trip ${worst} ms (yardstick ${baseline.worst} ms, echoes in ${baseline.result.ms} ms)`)
  t.notOk(result.closed, 'the flooder was not closed')
  t.equal(result.pongs, 10_000, 'every ping answered with its pong')
  t.equal(result.echoes + result.others, 0, 'no ping was echoed by the handler')
  t.equal(f.delivered.get(conn.socket)?.length, 0, 'no ping reached the handler')
  t.ok(worst < bound, `control round trip ${worst} ms during the flood, under ${bound} ms`)
  t.equal(f.app.wsConnections.size, 3)
  t.equal(f.timedOutAt.size, 0)
  t.same(f.disconnects, [])
  await assertControlHealthy(t, f, control, bound)
})

// The heartbeats sent during the echo wait behind 10 MiB, and up to a few MB of it sit in
// kernel buffers the process cannot see leave; docs/server.md ("Sizing rule for data
// already in the kernel") asks for a `timeout` that covers them reaching the reader. At
// 200 ms a loaded CI machine missed it once (the peer read its echo for 660 ms), so this
// case follows the rule: 2 s covers ~15 MB at 8 MB/s.
t.test('a peer sending a 10 MiB text message on a JSON route', { timeout: 20000 }, async (t) => {
  const f = await faultApp(t, { timeout: 2000 })
  const control = await controlClient(t, f, '/json')
  const connected = nextConnection(f)
  const size = 10 * 1024 * 1024
  const sender = await spawnFlooder(t, `${f.url}/json`, { count: 1, size })
  const conn = await connected

  await sleep(150)
  const sentAt = Date.now()
  sender.go()
  const result = await sender.done
  await sleep(100)
  const worst = control.maxRttSince(sentAt)
  t.comment(`fault=10MiB echoed in ${result.ms} ms; control max round trip ${worst} ms`)
  const got = f.delivered.get(conn.socket) ?? []
  t.equal(got.length, 1, 'delivered to the handler')
  t.equal(got[0]?.size, size, 'whole')
  t.equal(got[0]?.isBinary, false)
  t.ok(got[0]?.head.startsWith('{"type":"ping","timestamp":1'), 'it looks like a JSON ping, and is not one: too large')
  t.notOk(result.closed)
  t.equal(result.echoes, 1, 'echoed back by the handler')
  t.equal(result.pongs, 0, 'never answered as a heartbeat')
  t.ok(worst < 500, `control round trip under 500 ms (${worst} ms)`)
  t.equal(f.timedOutAt.size, 0)
  t.same(f.disconnects, [])
  t.equal(f.app.wsConnections.size, 2)
  await assertControlHealthy(t, f, control)
})
