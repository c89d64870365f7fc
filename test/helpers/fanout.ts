import type { FastifyInstance } from 'fastify'
import type WebSocket from 'ws'
import type { ClientOptions } from 'ws'
import { connect, startApp, until, type TestTap } from './index.js'
import type { FastifyWsHeartbeatOptions } from '../../lib/index.js'

export interface Received { data: Buffer, binary: boolean }

export interface Pair { client: WebSocket, server: WebSocket, got: Received[] }

/** An app with the plugin and one `/bc` route whose handler does nothing; closed at teardown. */
export async function broadcastApp (t: TestTap, opts: FastifyWsHeartbeatOptions = {}): Promise<{ app: FastifyInstance, url: string }> {
  const { app, url } = await startApp(t, opts, (app) => {
    app.get('/bc', { websocket: true }, () => {})
  })
  return { app, url: `${url}/bc` }
}

/** Connects a real client and returns it with its server-side socket and what it receives. */
export async function pair (t: TestTap, app: FastifyInstance, url: string, opts: ClientOptions = {}): Promise<Pair> {
  const before = new Set(app.websocketServer.clients)
  const client = await connect(t, url, opts)
  let server: WebSocket | undefined
  await until(() => {
    for (const s of app.websocketServer.clients) if (!before.has(s)) server = s
    return server !== undefined
  }, 5000, 'server-side socket')
  const got: Received[] = []
  client.on('message', (data, binary) => { got.push({ data: data as Buffer, binary }) })
  return { client, server: server as WebSocket, got }
}

export const text = (got: Received[]): string[] => got.map((m) => (m.binary ? 'b:' : 't:') + m.data.toString())
