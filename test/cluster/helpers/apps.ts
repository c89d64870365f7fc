import type { FastifyInstance } from 'fastify'
import type WebSocket from 'ws'
import { startApp, until, type TestTap } from '../../helpers/index.js'
import type { RedisOptions } from 'ioredis'
import { redisClient } from './redis.js'

export const interval = 100
/** Short enough to measure expiry, long enough that a loaded machine's stalls of a child process do not expire it. */
export const timeout = 500
/** Scheduling slack on upper bounds: 2 cores shared with other test files. */
export const SLACK = 200
/**
 * For tests that do not measure expiry: nodes in one process stall together, and a stall
 * longer than the timeout rightly expires them, which a busy machine can cause.
 */
export const RELAXED = { timeout: 3000 }

export interface ClusterApp {
  app: FastifyInstance
  url: string
  port: number
  node: string
  events: Array<{ event: 'nodeUp' | 'nodeDown', node: string, at: number }>
}

/**
 * An app with the plugin and `cluster` on the given Redis (interval 100 ms, timeout 500 ms),
 * routes `/echo` (echoes) and `/chat` (silent).
 */
export async function clusterApp (t: TestTap, redisPort: number, node: string, cluster: Record<string, unknown> = {}, redisOpts: RedisOptions = {}): Promise<ClusterApp> {
  const redis = redisClient(t, redisPort, redisOpts)
  const { app, url, port } = await startApp(t, { cluster: { redis, node, interval, timeout, ...cluster } }, (app) => {
    app.get('/echo', { websocket: true }, (socket: WebSocket) => {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
    })
    app.get('/chat', { websocket: true }, () => {})
  })
  const events: ClusterApp['events'] = []
  app.wsConnections.on('nodeUp', (n) => events.push({ event: 'nodeUp', node: n, at: Date.now() }))
  app.wsConnections.on('nodeDown', (n) => events.push({ event: 'nodeDown', node: n, at: Date.now() }))
  return { app, url, port, node, events }
}

/** Waits until every app sees `nodes` live nodes with Redis up. */
export async function untilNodes (apps: ClusterApp[], nodes: number, ms = 5000): Promise<void> {
  await until(() => apps.every((a) => {
    const s = a.app.wsConnections.cluster!.stats()
    return s.nodes === nodes && s.broker === 'up'
  }), ms, `${nodes} nodes seen by every app`)
}
