import t from 'tap'
import { until } from '../helpers/index.js'
import {
  DETECT_BOUND, SLACK, assertControlHealthy, closeTimeout, controlClient, faultApp, rawPeer, timeout
} from '../fixtures/fault-kit.js'

// A peer that completed the upgrade and then ignores everything: no pong, no JSON pong,
// no answer to the close frame, never closes its side.
for (const path of ['/echo', '/json']) {
  t.test(`a raw TCP peer on ${path} that ignores everything, close included`, { timeout: 20000 }, async (t) => {
    const f = await faultApp(t)
    const control = await controlClient(t, f)
    const peer = await rawPeer(t, f.port, path)
    const silentAt = Date.now()
    await until(() => f.app.wsConnections.size === 2, 10000, 'peer tracked')
    const conn = [...f.app.wsConnections].find((c) => c !== control.conn)
    if (conn === undefined) throw new Error('no peer connection')
    t.equal(conn.route, path)

    await until(() => f.timedOutAt.has(conn.id), DETECT_BOUND + 2000, 'timeout')
    const deadAt = f.timedOutAt.get(conn.id) as number
    // Silent since the upgrade: dead by connect + interval + timeout, never before connect + timeout.
    t.ok(deadAt - silentAt <= DETECT_BOUND, `detected ${deadAt - silentAt} ms after the upgrade (bound ${DETECT_BOUND})`)
    t.ok(deadAt - silentAt >= timeout, 'not before timeout')
    t.equal(f.app.wsConnections.size, 1, 'removed from the counts at once')
    t.same(f.app.wsConnections.stats().routes, { '/echo': 1 })
    const pinged = Buffer.concat(peer.received)
    t.ok(path === '/echo' ? pinged[0] === 0x89 : pinged.includes('{"type":"ping"'), 'it was sent a heartbeat first')

    await until(() => peer.closedAt !== 0, closeTimeout + 2000, 'peer socket closed by the server')
    t.ok(peer.closeFrameAt !== 0, 'a close frame was sent')
    const closeFrame = Buffer.concat(peer.received).subarray(Buffer.concat(peer.received).lastIndexOf(0x88))
    t.equal(closeFrame.readUInt16BE(2), 1011, 'close code 1011')
    t.equal(closeFrame.subarray(4).toString(), 'heartbeat timeout')
    const destroyedIn = peer.closedAt - deadAt
    t.ok(destroyedIn <= closeTimeout + SLACK, `destroyed ${destroyedIn} ms after the verdict (closeTimeout ${closeTimeout})`)
    t.ok(destroyedIn >= closeTimeout - 5, 'given closeTimeout to answer the close frame')
    t.equal(conn.socket.readyState, conn.socket.CLOSED)
    t.equal(f.app.wsConnections.size, 1, 'size back to the control alone')
    t.equal(f.app.wsConnections.stats().timedOut, 1)
    t.equal(f.disconnects.length, 1, 'one disconnect, no second one at destruction')

    await assertControlHealthy(t, f, control)
    t.comment(`fault=raw${path} detect=${deadAt - silentAt} destroy=${destroyedIn}`)
  })
}
