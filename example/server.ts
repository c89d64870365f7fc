// The example server: `npm start`, then open http://localhost:3000/ or connect any
// WebSocket client. Try HEARTBEAT_INTERVAL=1000 HEARTBEAT_TIMEOUT=1500 npm start and
// freeze a client (Ctrl-Z on `npm run client`) to watch it being dropped in seconds.
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { dirname, join } from 'node:path'
import heartbeat from 'fastify-ws-heartbeat'
import { Registry } from 'prom-client'
import Redis from 'ioredis'

export interface ExampleOptions {
  /** ms between heartbeats (plugin and page). Default 5 000: the page shows a round trip soon. */
  interval?: number
  /** ms a heartbeat may wait for its answer. Default 10 000. */
  timeout?: number
  closeTimeout?: number
  maxConnections?: number
  /** Redis URL: this server is one node of a cluster (`npm run example:cluster`); default none. */
  redisUrl?: string
  /** This node's id in the cluster; default the plugin's. */
  node?: string
  /** pino level; default 'info'. */
  logLevel?: string
  /** Pretty, human-readable log lines (pino-pretty); default: when stdout is a terminal. */
  pretty?: boolean
}

// The package root, whether this file runs compiled (build/example) or from source.
const root = dirname(require.resolve('fastify-ws-heartbeat/package.json'))

/** Latency in ms to one decimal: enough for a person, no float noise in the log. */
function roundLatency (ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 10) / 10
}

export async function buildExample (opts: ExampleOptions = {}): Promise<FastifyInstance> {
  const level = opts.logLevel ?? 'info'
  const pretty = opts.pretty ?? process.stdout.isTTY === true
  const app = Fastify({
    logger: pretty
      ? { level, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : { level }
  })

  // One set of heartbeat numbers for the server and the page (GET /config.json), so the
  // page's client times heartbeats the way the server does.
  const settings = {
    interval: opts.interval ?? 5_000,
    timeout: opts.timeout ?? 10_000,
    closeTimeout: opts.closeTimeout ?? 2_000
  }
  // The Redis client is the application's: the plugin never closes it.
  const redis = opts.redisUrl === undefined ? undefined : new Redis(opts.redisUrl)
  if (redis !== undefined) app.addHook('onClose', async () => { await redis.quit() })
  // A registry per app (not prom-client's default): several example apps can run in one process.
  const registry = new Registry()
  await app.register(heartbeat, {
    ...settings,
    maxConnections: opts.maxConnections,
    metrics: { registry }, // example/dashboard.json draws these in Grafana
    cluster: redis === undefined ? undefined : { redis, node: opts.node }
  })

  // Prometheus scrapes this (docs/metrics.md).
  app.get('/metrics', async (_req, reply) => {
    reply.type(registry.contentType)
    return await registry.metrics()
  })

  // Frame mode (the default): RFC 6455 pings, answered by every client library and browser.
  app.get('/echo', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })

  // JSON mode: browser code can see these heartbeats, so a page can notice a dead server.
  // Every chat message goes to every chat client, on every instance when there are several
  // (publish() is broadcast() on this instance plus the others through Redis).
  app.get('/chat', { websocket: true, heartbeat: { mode: 'json' } }, (socket) => {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return
      app.wsConnections.publish(data.toString(), { route: '/chat' }).catch((err) => app.log.warn({ err }, 'publish to the other instances failed'))
    })
  })

  // Tracked and counted, never pinged.
  app.get('/raw', { websocket: true, heartbeat: false }, (socket) => {
    socket.send('this route has no heartbeat')
  })

  app.wsConnections.on('connect', (conn) => app.log.info({ route: conn.route, id: conn.id }, 'connect'))
  app.wsConnections.on('disconnect', (conn, code, reason) =>
    app.log.info({ route: conn.route, id: conn.id, code, reason, latency: roundLatency(conn.latency) }, 'disconnect'))

  app.get('/config.json', async () => ({ chat: { path: '/chat', mode: 'json', ...settings } }))

  // The page, the browser build of the client, and uPlot for the page's chart.
  await app.register(fastifyStatic, { root: join(root, 'example', 'public'), prefix: '/public/' })
  app.get('/', (_req, reply) => reply.sendFile('index.html'))
  // dist/esm as a whole: the client build imports the shared rules from ../rules/.
  await app.register(fastifyStatic, { root: join(root, 'dist', 'esm'), prefix: '/esm/', decorateReply: false })
  await app.register(fastifyStatic, { root: dirname(require.resolve('uplot')), prefix: '/vendor/uplot/', decorateReply: false })

  return app
}

function numberFromEnv (name: string): number | undefined {
  const value = process.env[name]
  return value === undefined || value === '' ? undefined : Number(value)
}

async function main (): Promise<void> {
  const env = process.env
  const app = await buildExample({
    interval: numberFromEnv('HEARTBEAT_INTERVAL'),
    timeout: numberFromEnv('HEARTBEAT_TIMEOUT'),
    closeTimeout: numberFromEnv('HEARTBEAT_CLOSE_TIMEOUT'),
    maxConnections: numberFromEnv('MAX_CONNECTIONS'),
    logLevel: env.LOG_LEVEL,
    // REDIS_URL set (as `npm run example:cluster` does): one of several instances.
    redisUrl: env.REDIS_URL,
    node: env.CLUSTER_NODE
  })

  // A rolling deploy: stop getting traffic, spread the reconnects, then stop.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      app.log.info({ signal }, 'draining')
      await app.wsConnections.drain({ delay: Number(env.DRAIN_DELAY ?? 0), window: Number(env.DRAIN_WINDOW ?? 1000) })
      await app.close()
    })
  }

  await app.listen({ port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' })
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
