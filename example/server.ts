// The example server: `npm start`, then open http://localhost:3000/ or connect any
// WebSocket client. Try HEARTBEAT_INTERVAL=1000 HEARTBEAT_TIMEOUT=1500 npm start and
// freeze a client (Ctrl-Z on `npm run client`) to watch it being dropped in seconds.
import Fastify from 'fastify'
import { readFile } from 'node:fs/promises'
import { join, extname } from 'node:path'
import heartbeat from 'fastify-ws-heartbeat'
import { register } from 'prom-client'
import Redis from 'ioredis'

const env = process.env
const port = Number(env.PORT ?? 3000)
const host = env.HOST ?? '127.0.0.1'

function numberFromEnv (name: string): number | undefined {
  const value = env[name]
  return value === undefined || value === '' ? undefined : Number(value)
}

async function main (): Promise<void> {
  const app = Fastify({ logger: { level: env.LOG_LEVEL ?? 'info' } })
  // REDIS_URL set (as `npm run example:cluster` does): one of several instances.
  const redis = env.REDIS_URL === undefined ? undefined : new Redis(env.REDIS_URL)

  await app.register(heartbeat, {
    interval: numberFromEnv('HEARTBEAT_INTERVAL'),
    timeout: numberFromEnv('HEARTBEAT_TIMEOUT'),
    closeTimeout: numberFromEnv('HEARTBEAT_CLOSE_TIMEOUT'),
    maxConnections: numberFromEnv('MAX_CONNECTIONS'),
    metrics: true, // prom-client's default registry; example/dashboard.json draws it in Grafana
    cluster: redis === undefined ? undefined : { redis, node: env.CLUSTER_NODE }
  })
  // The client is the application's: the plugin never closes it.
  if (redis !== undefined) app.addHook('onClose', async () => { await redis.quit() })

  // Prometheus scrapes this (docs/metrics.md).
  app.get('/metrics', async (_req, reply) => {
    reply.type(register.contentType)
    return register.metrics()
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
      app.wsConnections.publish(data.toString(), { route: '/chat' }).catch((err) => app.log.warn({ err }, 'chat message not sent to the other instances'))
    })
  })

  // Tracked and counted, never pinged.
  app.get('/raw', { websocket: true, heartbeat: false }, (socket) => {
    socket.send('this route has no heartbeat')
  })

  app.wsConnections.on('connect', (conn) => app.log.info({ route: conn.route, id: conn.id }, 'connect'))
  app.wsConnections.on('disconnect', (conn, code, reason) => app.log.info({ route: conn.route, id: conn.id, code, reason, latency: conn.latency }, 'disconnect'))

  // The page and the browser build of the client.
  const root = join(__dirname, '..', '..')
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' }
  async function serve (file: string, reply: import('fastify').FastifyReply): Promise<void> {
    try {
      const body = await readFile(file)
      await reply.type(`${types[extname(file)] ?? 'application/octet-stream'}; charset=utf-8`).send(body)
    } catch {
      await reply.code(404).send({ error: 'not found' })
    }
  }
  const safeName = /^[\w.-]+$/
  app.get('/', (_req, reply) => serve(join(root, 'example', 'public', 'index.html'), reply))
  app.get<{ Params: { file: string } }>('/client/:file', (req, reply) =>
    safeName.test(req.params.file) ? serve(join(root, 'dist', 'esm', 'client', req.params.file), reply) : reply.code(404).send())
  app.get<{ Params: { file: string } }>('/public/:file', (req, reply) =>
    safeName.test(req.params.file) ? serve(join(root, 'example', 'public', req.params.file), reply) : reply.code(404).send())

  // A rolling deploy: stop getting traffic, spread the reconnects, then stop.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      app.log.info({ signal }, 'draining')
      await app.wsConnections.drain({ delay: Number(env.DRAIN_DELAY ?? 0), window: Number(env.DRAIN_WINDOW ?? 1000) })
      await app.close()
    })
  }

  await app.listen({ port, host })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
