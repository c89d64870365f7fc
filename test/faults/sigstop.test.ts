import t from 'tap'
import { until } from '../helpers/index.js'
import {
  DETECT_BOUND, SLACK, assertControlHealthy, closeTimeout, controlClient, faultApp, spawnPeers, timeout, untilStopped
} from '../fixtures/fault-kit.js'

// The kernel of a frozen process still ACKs every segment, so TCP alone never notices:
// only the missing answers to heartbeats do.
for (const path of ['/echo', '/json']) {
  t.test(`a peer frozen with SIGSTOP on ${path} is declared dead within the bound`, { timeout: 20000 }, async (t) => {
    const f = await faultApp(t)
    const control = await controlClient(t, f)
    const peers = await spawnPeers(t, f.url, [{ path, count: 1 }])
    await until(() => f.app.wsConnections.size === 2, 10000, 'peer tracked')
    const conn = [...f.app.wsConnections].find((c) => c.route === path && c !== control.conn)
    if (conn === undefined) throw new Error('no peer connection')

    // A few answered heartbeats first: it is alive.
    await until(() => conn.latency !== null, 2000, 'a heartbeat answered')
    peers.stop()
    await untilStopped(peers.child.pid as number)
    const silentAt = Date.now()

    await until(() => f.timedOutAt.has(conn.id), DETECT_BOUND + 2000, 'timeout')
    const deadAt = f.timedOutAt.get(conn.id) as number
    const lastBytes = f.lastBytesAt.get(conn.socket) as number
    t.ok(deadAt - silentAt <= DETECT_BOUND, `detected ${deadAt - silentAt} ms after the freeze (bound ${DETECT_BOUND})`)
    t.ok(deadAt - lastBytes >= timeout, `not before timeout after the last bytes received (${deadAt - lastBytes} ms)`)
    t.equal(f.app.wsConnections.size, 1, 'removed from the counts at once')
    t.equal(f.app.wsConnections.count(path), path === '/echo' ? 1 : 0)
    t.same(f.disconnects.map((d) => [d.id, d.code, d.reason]), [[conn.id, 1011, 'heartbeat timeout']])
    t.equal(f.app.wsConnections.stats().timedOut, 1)

    // The frozen peer never answers the close frame: destroyed after closeTimeout.
    await until(() => conn.socket.readyState === conn.socket.CLOSED, closeTimeout + 1000, 'socket destroyed')
    const destroyedIn = Date.now() - deadAt
    t.ok(destroyedIn <= closeTimeout + SLACK, `destroyed ${destroyedIn} ms after the verdict`)
    t.ok(destroyedIn >= closeTimeout - 5, 'not before closeTimeout')

    await assertControlHealthy(t, f, control)
    t.comment(`fault=sigstop${path} detect=${deadAt - silentAt} destroy=${destroyedIn}`)
  })
}
