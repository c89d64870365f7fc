import t from 'tap'
import { collect, connect, sleep, until } from '../helpers/index.js'
import { startRedis } from './helpers/redis.js'
import { SLACK, clusterApp, interval, timeout, untilNodes, type ClusterApp } from './helpers/apps.js'
import { spawnHost } from './helpers/child.js'

t.setTimeout(180_000)

// Two processes, started together: one is SIGKILLed, the other hosts the remaining tests' nodes.
const hosts = Promise.all([spawnHost(t), spawnHost(t)])

async function health (a: ClusterApp): Promise<{ status: number, body: any }> {
  const res = await fetch(`http://127.0.0.1:${a.port}/health/ws`)
  return { status: res.status, body: await res.json() }
}

t.test('a SIGKILLed node leaves the totals after timeout (nodeDown)', async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a')
  const [victim] = await hosts
  const b = await victim.startNode(redis.port, 'b')
  await untilNodes([a], 2)
  await connect(t, `${b.url}/chat`)
  await connect(t, `${b.url}/chat`)
  await until(() => a.app.wsConnections.cluster!.stats().connections === 2, 3000, "b's connections counted")
  const killedAt = Date.now()
  victim.child.kill('SIGKILL')
  // Only the verdict on the dead process counts: a loaded machine may stall b earlier.
  const downAfterKill = (): { at: number } | undefined => a.events.find((e) => e.event === 'nodeDown' && e.node === 'b' && e.at >= killedAt)
  await until(() => downAfterKill() !== undefined, 3000, 'nodeDown b')
  const after = downAfterKill()!.at - killedAt
  // b was last heard from at most one interval before the kill.
  t.ok(after >= timeout - interval - 20, `not before timeout after its last announcement (${after} ms after the kill)`)
  t.ok(after <= timeout + SLACK, `within timeout of the kill (${after} ms)`)
  t.same(a.app.wsConnections.cluster!.stats(), { nodes: 1, connections: 0, routes: {}, broker: 'up' })
})

t.test('a node whose app closes leaves at once, long before its timeout', async (t) => {
  const redis = await startRedis(t)
  const long = { interval: 100, timeout: 3000 }
  const a = await clusterApp(t, redis.port, 'a', long)
  const b = await (await hosts)[1].startNode(redis.port, 'b', long)
  await untilNodes([a], 2)
  const closingAt = Date.now()
  await b.close()
  await until(() => a.events.some((e) => e.event === 'nodeDown' && e.node === 'b'), 3000, 'nodeDown b')
  const after = a.events.find((e) => e.event === 'nodeDown')!.at - closingAt
  t.ok(after < 1000, `nodeDown ${after} ms after app.close() began (expiry would take ${long.timeout - long.interval} ms or more)`)
  t.equal(a.app.wsConnections.cluster!.stats().nodes, 1)
})

t.test('Redis frozen (SIGSTOP): broker down after timeout, local service and health 200, peers age out; back after SIGCONT', async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a')
  const host = (await hosts)[1]
  const b = await host.startNode(redis.port, 'b')
  t.teardown(() => b.close())
  await untilNodes([a], 2)
  const ws = await connect(t, `${a.url}/echo`)
  const echoed = collect(ws)

  const frozenAt = Date.now()
  redis.freeze()
  const publishing = a.app.wsConnections.publish('into the void').then(() => null, (err: Error) => ({ err, at: Date.now() }))
  await until(() => a.app.wsConnections.cluster!.stats().broker === 'down', interval + timeout + SLACK + 500, 'broker down')
  const downAfter = Date.now() - frozenAt
  t.ok(downAfter <= interval + timeout + SLACK, `broker down ${downAfter} ms after the freeze`)
  const failed = await publishing
  t.ok(failed !== null, 'publish rejected')
  t.match(failed!.err.message, new RegExp(`did not answer within ${timeout} ms`))
  t.ok(failed!.at - frozenAt <= timeout + SLACK, `publish rejected ${failed!.at - frozenAt} ms after the freeze`)
  t.same(echoed, ['into the void'], 'local delivery happened')

  ws.send('local still works')
  await until(() => echoed.length === 2, 2000, 'echo while Redis is frozen')
  await until(() => a.app.wsConnections.cluster!.stats().nodes === 1, timeout + SLACK + 500, 'b aged out')
  const h = await health(a)
  t.equal(h.status, 200)
  t.same(h.body, { status: 'ok', connections: 1, routes: { '/echo': 1 }, cluster: { nodes: 1, connections: 1, broker: 'down' } })
  t.equal(a.app.wsConnections.size, 1, 'the heartbeated client stayed')

  redis.thaw()
  await untilNodes([a], 2, 5000)
  t.ok(a.events.filter((e) => e.event === 'nodeUp' && e.node === 'b').length >= 2, 'b up again')
  t.equal(host.child.exitCode, null, 'b did not crash')
})

t.test('Redis killed and restarted on the same port: subscriptions and announcements resume, publish works again', async (t) => {
  const redis = await startRedis(t)
  // Without ioredis' own resubscription: the plugin resubscribes by itself.
  const a = await clusterApp(t, redis.port, 'a', {}, { autoResubscribe: false })
  const b = await (await hosts)[1].startNode(redis.port, 'b')
  t.teardown(() => b.close())
  await untilNodes([a], 2)
  const onA = collect(await connect(t, `${a.url}/chat`))
  const onB = collect(await connect(t, `${b.url}/chat`))

  await redis.kill()
  await until(() => a.app.wsConnections.cluster!.stats().broker === 'down', 2000, 'broker down')
  const lost = await b.publish('lost')
  t.type(lost, 'string', `publish from b rejected while Redis is away: ${String(lost)}`)
  await sleep(timeout + SLACK)
  t.equal(a.app.wsConnections.cluster!.stats().nodes, 1, 'b aged out while Redis was away')

  const restartedAt = Date.now()
  await redis.restart()
  await untilNodes([a], 2, 5000)
  t.comment(`a sees b again ${Date.now() - restartedAt} ms after the restart`)
  await until(() => a.app.wsConnections.cluster!.stats().connections === 2, 2000, "b's counts")

  t.equal(await b.publish('from b', '/chat'), undefined)
  await until(() => onA.includes('from b'), 2000, "b's publish reached a's client (a resubscribed)")
  await a.app.wsConnections.publish('from a', { route: '/chat' })
  await until(() => onB.includes('from a'), 2000, "a's publish reached b's client (b resubscribed)")
  t.notOk(onA.includes('lost'), 'nothing published during the outage is delivered later')
})

t.test("a stall of this node's event loop does not make it declare live peers dead", async (t) => {
  const redis = await startRedis(t)
  const a = await clusterApp(t, redis.port, 'a')
  const b = await (await hosts)[1].startNode(redis.port, 'b')
  t.teardown(() => b.close())
  await untilNodes([a], 2)
  await sleep(interval)
  // Three timeouts without reading anything; b keeps announcing from its own process.
  const end = Date.now() + 3 * timeout
  while (Date.now() < end) { /* stalled */ }
  await sleep(2 * interval)
  t.same(a.events.filter((e) => e.event === 'nodeDown'), [], 'no nodeDown for b')
  t.equal(a.app.wsConnections.cluster!.stats().nodes, 2)
})
