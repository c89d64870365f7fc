import Fastify from 'fastify'
import heartbeat, { fastifyWsHeartbeat, FST_ERR_WS_HEARTBEAT_INVALID_OPTION, type FastifyWsHeartbeatOptions, type WsConnection } from 'fastify-ws-heartbeat'
import { HeartbeatClient, type HeartbeatClientOptions } from 'fastify-ws-heartbeat/client'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

const options: FastifyWsHeartbeatOptions = { interval: 1_000, health: false }
const app = Fastify()
await app.register(fastifyWsHeartbeat, options)
await app.register(heartbeat)
app.get('/ws', { websocket: true, heartbeat: { mode: 'json' } }, (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
})
app.wsConnections.on('disconnect', (conn: WsConnection, code: number) => app.log.info({ id: conn.id, latency: conn.latency, code }))
export const code: string = new FST_ERR_WS_HEARTBEAT_INVALID_OPTION('a', 'b', 'c').code

const clientOptions: HeartbeatClientOptions = { queue: 10 }
const client = new HeartbeatClient('ws://127.0.0.1:3000/ws', clientOptions)
client.on('message', (data) => {
  const exact: Equal<typeof data, string | Buffer> = true
  return exact
})
