import Fastify, { type FastifyRequest } from 'fastify'
import websocket from '@fastify/websocket'
import type { WebSocket } from 'ws'
import { expect, test } from 'tstyche'
import heartbeat, {
  fastifyWsHeartbeat,
  FST_ERR_WS_HEARTBEAT_INVALID_OPTION,
  WsConnection,
  WsConnectionManager,
  type FastifyWsHeartbeatOptions,
  type RouteHeartbeatOptions,
  type WsConnectionStats,
  type HeartbeatMode
} from '../../lib/index.js'

const app = Fastify()

function wsHandler (socket: WebSocket, request: FastifyRequest): void {
  socket.send(request.url)
}

test('exports', () => {
  expect(fastifyWsHeartbeat).type.toBe(heartbeat)
  expect<HeartbeatMode>().type.toBe<'frame' | 'json' | 'off'>()
  expect(new FST_ERR_WS_HEARTBEAT_INVALID_OPTION('a', 'b', 'c').code).type.toBe<string>()
})

test('registering with valid options', () => {
  expect(app.register).type.toBeCallableWith(heartbeat)
  expect(app.register).type.toBeCallableWith(heartbeat, {})
  expect(app.register).type.toBeCallableWith(heartbeat, {
    mode: 'json',
    interval: 20_000,
    timeout: 30_000,
    closeTimeout: 2_000,
    json: { typeKey: 'type', ping: 'ping', pong: 'pong', timestampKey: 'timestamp', payload: () => ({ seq: 1 }) },
    health: { path: '/health/ws' },
    maxConnections: Infinity,
    websocket: { options: { maxPayload: 1024 } }
  })
  expect(app.register).type.toBeCallableWith(heartbeat, { health: false })
  expect(app.register).type.toBeCallableWith(heartbeat, { mode: 'off', prefix: '/api' })
  expect(app.register(websocket).register(heartbeat, { interval: 1000 })).type.toBeAssignableTo<PromiseLike<unknown>>()

  const opts: FastifyWsHeartbeatOptions = { mode: 'frame', interval: 1 }
  expect(app.register).type.toBeCallableWith(heartbeat, opts)
})

test('registering with wrong types is rejected', () => {
  expect(app.register).type.not.toBeCallableWith(heartbeat, { interval: 'x' })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { timeout: '1s' })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { closeTimeout: null })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { mode: 'bogus' })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { json: { typeKey: 1 } })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { json: { payload: 'x' } })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { health: '/health' })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { health: { path: 1 } })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { maxConnections: '10' })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { websocket: 'x' })
})

test('json.payload receives a WsConnection and returns an object', () => {
  app.register(heartbeat, {
    mode: 'json',
    json: {
      payload: (conn) => {
        expect(conn).type.toBe<WsConnection>()
        return { route: conn.route, latency: conn.latency }
      }
    }
  })
  expect(app.register).type.not.toBeCallableWith(heartbeat, { json: { payload: () => 'x' } })
})

test('route option heartbeat on websocket routes', () => {
  expect(app.get).type.toBeCallableWith('/x', { websocket: true, heartbeat: { mode: 'json', interval: 1000 } }, wsHandler)
  expect(app.get).type.toBeCallableWith('/x', { websocket: true, heartbeat: false }, wsHandler)
  expect(app.get).type.toBeCallableWith('/x', { websocket: true, heartbeat: true }, wsHandler)
  expect(app.get).type.toBeCallableWith('/x', {
    websocket: true,
    heartbeat: { mode: 'frame', interval: 1, timeout: 2, closeTimeout: 3, json: { ping: 'hb' } }
  }, wsHandler)

  app.get('/inline', { websocket: true, heartbeat: { mode: 'json', interval: 1000 } }, (socket, req) => {
    expect(socket).type.toBe<WebSocket>()
    expect(req.url).type.toBe<string>()
  })
  app.get('/raw', { websocket: true, heartbeat: false }, (socket) => {
    socket.send('raw')
  })

  expect(app.route).type.toBeCallableWith({
    method: 'GET',
    url: '/route',
    websocket: true,
    heartbeat: { mode: 'off' },
    handler: wsHandler
  })
  expect(app.route).type.toBeCallableWith({
    method: 'GET',
    url: '/both',
    heartbeat: { mode: 'json', json: { typeKey: 'kind' } },
    handler: (_request: FastifyRequest, reply: { send: (body: string) => void }) => { reply.send('http') },
    wsHandler
  })

  const routeOpts: RouteHeartbeatOptions = { mode: 'json' }
  expect(routeOpts).type.toBeAssignableTo<RouteHeartbeatOptions>()
})

test('route option heartbeat with wrong types is rejected', () => {
  expect(app.get).type.not.toBeCallableWith('/x', { websocket: true, heartbeat: { mode: 'bogus' } }, wsHandler)
  expect(app.get).type.not.toBeCallableWith('/x', { websocket: true, heartbeat: 5 }, wsHandler)
  expect(app.get).type.not.toBeCallableWith('/x', { websocket: true, heartbeat: 'json' }, wsHandler)
  expect(app.get).type.not.toBeCallableWith('/x', { websocket: true, heartbeat: { interval: '1s' } }, wsHandler)
  expect(app.get).type.not.toBeCallableWith('/x', { websocket: true, heartbeat: { json: { ping: 1 } } }, wsHandler)
  expect(app.route).type.not.toBeCallableWith({
    method: 'GET',
    url: '/route',
    websocket: true,
    heartbeat: { mode: 'bogus' },
    handler: wsHandler
  })
})

test('app.wsConnections is typed', () => {
  const manager = app.wsConnections
  expect(manager).type.toBe<WsConnectionManager>()
  expect(manager.size).type.toBe<number>()
  expect(manager.draining).type.toBe<boolean>()
  expect(manager.count('/chat')).type.toBe<number>()
  expect(manager.count).type.not.toBeCallableWith(1)

  const socket = {} as WebSocket
  expect(manager.get(socket)).type.toBe<WsConnection | undefined>()
  expect(manager.get).type.not.toBeCallableWith('socket')

  for (const conn of manager) expect(conn).type.toBe<WsConnection>()
  for (const conn of manager.connections('/chat')) expect(conn).type.toBe<WsConnection>()

  expect(manager.broadcast('hi')).type.toBe<number>()
  expect(manager.broadcast(Buffer.from('hi'), { route: '/chat', filter: (conn) => conn.mode === 'json' })).type.toBe<number>()
  expect(manager.broadcast).type.not.toBeCallableWith('hi', { route: 1 })

  expect(manager.stats()).type.toBe<WsConnectionStats>()
  expect(manager.stats().routes).type.toBe<Record<string, number>>()
  expect(manager.stats().connections).type.toBe<number>()
  expect(manager.stats().accepted).type.toBe<number>()
  expect(manager.stats().timedOut).type.toBe<number>()
  expect(manager.stats().draining).type.toBe<boolean>()

  expect(manager.drain()).type.toBe<Promise<void>>()
  expect(manager.drain({ delay: 1, window: 2, code: 1001, reason: 'bye' })).type.toBe<Promise<void>>()
  expect(manager.drain).type.not.toBeCallableWith({ code: '1001' })
})

test('WsConnection fields', () => {
  const conn = {} as WsConnection
  expect(conn.id).type.toBe<string>()
  expect(conn.socket).type.toBe<WebSocket>()
  expect(conn.route).type.toBe<string>()
  expect(conn.mode).type.toBe<HeartbeatMode>()
  expect(conn.connectedAt).type.toBe<number>()
  expect(conn.lastSeen).type.toBe<number>()
  expect(conn.latency).type.toBe<number | null>()
})

test('event listeners get typed arguments', () => {
  app.wsConnections.on('connect', (conn) => {
    expect(conn).type.toBe<WsConnection>()
  })
  app.wsConnections.on('timeout', (conn) => {
    expect(conn).type.toBe<WsConnection>()
  })
  app.wsConnections.on('disconnect', (conn, code, reason) => {
    expect(conn).type.toBe<WsConnection>()
    expect(code).type.toBe<number>()
    expect(reason).type.toBe<string>()
  })
  expect(app.wsConnections.on).type.not.toBeCallableWith('disconnect', (_conn: WsConnection, code: string) => code)
  expect(app.wsConnections.on).type.not.toBeCallableWith('bogus', () => {})
})
