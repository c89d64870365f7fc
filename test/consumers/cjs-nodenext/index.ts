import Fastify = require('fastify')
import heartbeat = require('fastify-ws-heartbeat')
import client = require('fastify-ws-heartbeat/client')

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

// `require('fastify-ws-heartbeat')` is the plugin, with its types on the same name.
const options: heartbeat.FastifyWsHeartbeatOptions = { interval: 1_000 }

export async function start (): Promise<void> {
  const app = Fastify()
  await app.register(heartbeat, options)
  await app.register(heartbeat.default)
  await app.register(heartbeat.fastifyWsHeartbeat, { mode: 'off' })
  app.get('/ws', { websocket: true, heartbeat: false }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
  const conn: heartbeat.WsConnection | undefined = [...app.wsConnections][0]
  app.log.info({ latency: conn?.latency })
}

const c = new client.HeartbeatClient('ws://127.0.0.1:3000/ws')
c.on('message', (data) => {
  const exact: Equal<typeof data, string | Buffer> = true
  return exact
})
