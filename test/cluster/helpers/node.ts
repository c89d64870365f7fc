// Cluster nodes in their own process, for the fault tests (test/cluster/faults.test.ts):
// the process can be SIGKILLed, and its event loop runs while the test's is stalled.
// One process hosts any number of apps (starting Node with the TypeScript loader costs
// seconds on a busy machine). IPC in: { seq, cmd: 'start' | 'close' | 'publish', ... };
// IPC out: { seq, port? , error? }.
import Fastify, { type FastifyInstance } from 'fastify'
import Redis from 'ioredis'
import type { AddressInfo } from 'node:net'
import heartbeat from '../../../lib/index.js'

interface Command {
  seq: number
  cmd: 'start' | 'close' | 'publish'
  node: string
  redisPort?: number
  interval?: number
  timeout?: number
  data?: string
  route?: string
}

const apps = new Map<string, { app: FastifyInstance, redis: Redis }>()

async function start (c: Command): Promise<Record<string, unknown>> {
  const redis = new Redis({ host: '127.0.0.1', port: c.redisPort, retryStrategy: () => 50, maxRetriesPerRequest: 1 })
  const app = Fastify()
  await app.register(heartbeat, { interval: 1000, timeout: 2000, cluster: { redis, node: c.node, interval: c.interval, timeout: c.timeout } })
  app.get('/chat', { websocket: true }, () => {})
  await app.listen({ host: '127.0.0.1', port: 0 })
  apps.set(c.node, { app, redis })
  return { port: (app.server.address() as AddressInfo).port }
}

async function run (c: Command): Promise<Record<string, unknown>> {
  if (c.cmd === 'start') return await start(c)
  const entry = apps.get(c.node)
  if (entry === undefined) throw new Error(`no node ${c.node}`)
  if (c.cmd === 'close') {
    await entry.app.close()
    entry.redis.disconnect()
    apps.delete(c.node)
    return {}
  }
  await entry.app.wsConnections.publish(c.data as string, { route: c.route })
  return {}
}

process.on('message', (c: Command) => {
  run(c).then(
    (reply) => process.send!({ seq: c.seq, ...reply }),
    (err: Error) => process.send!({ seq: c.seq, error: err.message })
  )
})
process.send!({ seq: 0 })
