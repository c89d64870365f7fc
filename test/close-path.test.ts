import t, { type Test } from 'tap'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import WebSocket from 'ws'
import type { AddressInfo, Socket } from 'node:net'
import heartbeat from '../lib/index.js'
import { connect, until } from './helpers/index.js'
import { clientFrame, rawPeer } from './fixtures/fault-kit.js'

// Every close handshake gets closeTimeout ms, whoever began it, whoever registered
// @fastify/websocket, and whatever another layer did to the socket's emit.
const closeTimeout = 200
const SLACK = 150

async function makeApp (t: Tap, userRegistersWebsocket: boolean, handler: (socket: WebSocket) => void = () => {}) {
  const app = Fastify()
  if (userRegistersWebsocket) await app.register(websocket)
  await app.register(heartbeat, { interval: 100, timeout: 200, closeTimeout })
  app.get('/frame', { websocket: true }, handler)
  app.get('/off', { websocket: true, heartbeat: false }, handler)
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const disconnects: Array<{ code: number, reason: string, at: number }> = []
  app.wsConnections.on('disconnect', (_conn, code, reason) => { disconnects.push({ code, reason, at: Date.now() }) })
  return { app, port: (app.server.address() as AddressInfo).port, disconnects }
}
type Tap = Test

function tcpOf (socket: WebSocket | undefined): Socket {
  return (socket as unknown as { _socket: Socket })._socket
}

for (const userRegistersWebsocket of [false, true]) {
  const who = userRegistersWebsocket ? 'the app registered @fastify/websocket' : 'the plugin registered @fastify/websocket'

  t.test(`${who}: a peer that sends a close frame and then leaves TCP open is destroyed and untracked within closeTimeout`, { timeout: 10000 }, async (t) => {
    const servers: WebSocket[] = []
    const { app, port, disconnects } = await makeApp(t, userRegistersWebsocket, (socket) => { servers.push(socket) })
    for (const path of ['/frame', '/off']) {
      const peer = await rawPeer(t, port, path, { allowHalfOpen: true })
      await until(() => app.wsConnections.size === 1, 2000, 'tracked')
      const code = Buffer.alloc(2)
      code.writeUInt16BE(1000)
      peer.socket.write(clientFrame(0x88, code))
      const sentAt = Date.now()
      await until(() => app.wsConnections.size === 0, closeTimeout + 1000, `${path}: untracked`)
      const untrackedIn = Date.now() - sentAt
      t.ok(untrackedIn <= closeTimeout + SLACK, `${path}: untracked ${untrackedIn} ms after the close frame (closeTimeout ${closeTimeout})`)
      t.ok(tcpOf(servers.at(-1)).destroyed, `${path}: the server destroyed its TCP socket`)
      t.equal(peer.socket.destroyed, false, `${path}: the peer never closed its side`)
      t.equal(disconnects.at(-1)?.code, 1000, `${path}: disconnect gets the peer's close code`)
      t.equal(app.wsConnections.count(path), 0)
    }
  })

  t.test(`${who}: socket.close(4000) by the application on a silent peer is bounded by closeTimeout`, { timeout: 10000 }, async (t) => {
    let server: WebSocket | undefined
    const { app, port, disconnects } = await makeApp(t, userRegistersWebsocket, (socket) => { server = socket })
    await rawPeer(t, port, '/off', { allowHalfOpen: true })
    await until(() => server !== undefined && app.wsConnections.size === 1, 2000, 'tracked')
    const closedAt = Date.now()
    server?.close(4000, 'bye')
    await until(() => app.wsConnections.size === 0, closeTimeout + 1000, 'untracked')
    const untrackedIn = Date.now() - closedAt
    t.ok(untrackedIn <= closeTimeout + SLACK, `untracked ${untrackedIn} ms after close() (closeTimeout ${closeTimeout})`)
    t.ok(untrackedIn >= closeTimeout - 5, 'the peer was given closeTimeout to answer')
    t.ok(tcpOf(server).destroyed, 'the server destroyed its TCP socket')
    t.equal(disconnects[0].code, 1006, 'no close frame came from the peer: 1006')
  })
}

t.test('a layer that replaces socket.emit does not break the lifecycle', { timeout: 10000 }, async (t) => {
  const { app, port, disconnects } = await makeApp(t, false, (socket) => {
    socket.emit = function (this: WebSocket, event: string | symbol, ...args: unknown[]) {
      return WebSocket.prototype.emit.call(this, event, ...args)
    } as WebSocket['emit']
    socket.on('message', (data) => socket.send(data))
  })
  const ws = await connect(t, `ws://127.0.0.1:${port}/frame`)
  await until(() => app.wsConnections.size === 1, 2000, 'tracked')
  const conn = [...app.wsConnections][0]
  await until(() => conn.latency !== null, 2000, 'latency measured from pong frames')
  ws.close(1000, 'done')
  await until(() => app.wsConnections.size === 0, closeTimeout + 1000, 'untracked after the client closed')
  t.equal(disconnects[0].code, 1000)
  t.equal(disconnects[0].reason, 'done')
  const closing = app.close()
  const finished = await Promise.race([closing.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 2000))])
  t.ok(finished, 'app.close() finishes')
})
