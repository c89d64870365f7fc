import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import WebSocket from 'ws'
import type { AddressInfo } from 'node:net'
import heartbeat, { WsConnection } from '../lib/index.js'
import { collect, connect, logLines, once, startApp, until } from './helpers/index.js'
import { internalsOf } from '../lib/manager.js'

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

async function listen (t: Tap, app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

t.test('the plugin alone registers @fastify/websocket and tracks connections', async (t) => {
  const app = Fastify()
  await app.register(heartbeat)
  t.ok(app.hasDecorator('websocketServer'), '@fastify/websocket registered')
  app.get('/echo', { websocket: true }, (socket) => {
    socket.on('message', (data) => socket.send(data))
  })
  const url = await listen(t, app)
  const ws = await connect(t, `${url}/echo`)
  t.equal(app.wsConnections.size, 1)
  t.equal(app.wsConnections.count('/echo'), 1)
  ws.send('hi')
  const [data] = await once<[Buffer]>(ws, 'message')
  t.equal(data.toString(), 'hi')
})

t.test('after an explicit @fastify/websocket registration, connections are tracked', async (t) => {
  const app = Fastify()
  await app.register(websocket)
  await app.register(heartbeat)
  app.get('/echo', { websocket: true }, () => {})
  const url = await listen(t, app)
  await connect(t, `${url}/echo`)
  await connect(t, `${url}/echo`)
  t.equal(app.wsConnections.size, 2)
  t.equal(app.wsConnections.count('/echo'), 2)
})

t.test('a route with handler and wsHandler is tracked; its HTTP handler still answers', async (t) => {
  const { app, url, port } = await startApp(t, {}, (app) => {
    app.route({
      method: 'GET',
      url: '/both',
      handler: (_request, reply) => { reply.send('http') },
      wsHandler: (socket) => { socket.send('ws') }
    })
  })
  const res = await fetch(`http://127.0.0.1:${port}/both`)
  t.equal(await res.text(), 'http')
  const ws = new WebSocket(`${url}/both`)
  t.teardown(() => ws.terminate())
  const [data] = await once<[Buffer]>(ws, 'message')
  t.equal(data.toString(), 'ws')
  t.equal(app.wsConnections.size, 1)
  t.equal(app.wsConnections.count('/both'), 1)
})

t.test('an upgrade to a route without a websocket handler is not tracked', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/plain', (_request, reply) => { reply.send('plain') })
  })
  let connects = 0
  app.wsConnections.on('connect', () => { connects++ })
  const ws = new WebSocket(`${url}/plain`)
  t.teardown(() => ws.terminate())
  ws.on('error', () => {})
  await once(ws, 'close')
  t.equal(app.wsConnections.size, 0)
  t.equal(connects, 0)
  t.equal(app.wsConnections.stats().accepted, 0)
})

t.test('under a prefix, routes are counted by their full pattern', async (t) => {
  const app = Fastify()
  let child: FastifyInstance | undefined
  await app.register(async (instance) => {
    await instance.register(heartbeat)
    instance.get('/chat/:room', { websocket: true }, () => {})
    child = instance
  }, { prefix: '/api' })
  const url = await listen(t, app)
  const manager = (child as FastifyInstance).wsConnections
  await connect(t, `${url}/api/chat/1`)
  await connect(t, `${url}/api/chat/2`)
  t.equal(manager.count('/api/chat/:room'), 2)
  t.same(manager.stats().routes, { '/api/chat/:room': 2 })
  t.same([...manager].map((conn) => conn.route), ['/api/chat/:room', '/api/chat/:room'])
})

t.test('get(socket) inside the handler returns the connection', async (t) => {
  let seen: WsConnection | undefined
  let before = 0
  const { app, url } = await startApp(t, { mode: 'json' }, (app) => {
    app.get('/room/:id', { websocket: true }, (socket) => {
      seen = app.wsConnections.get(socket)
    })
  })
  before = Date.now()
  await connect(t, `${url}/room/7`)
  await until(() => seen !== undefined, 2000, 'handler ran')
  const conn = seen as WsConnection
  t.ok(conn instanceof WsConnection)
  t.equal(conn.route, '/room/:id')
  t.equal(conn.mode, 'json')
  t.type(conn.id, 'string')
  t.ok(conn.id.length > 0)
  t.type(conn.connectedAt, 'number')
  t.ok(conn.connectedAt >= before - 5 && conn.connectedAt <= Date.now(), 'connectedAt is epoch ms')
  t.type(conn.lastSeen, 'number')
  t.ok(conn.lastSeen >= conn.connectedAt)
  t.equal(conn.latency, null)
  t.equal([...app.wsConnections][0], conn, 'same object in the iteration')
  t.equal(app.wsConnections.get({} as WebSocket), undefined, 'unknown socket')
})

t.test('ids are unique', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/a', { websocket: true }, () => {})
    app.get('/b', { websocket: true }, () => {})
  })
  for (let i = 0; i < 5; i++) {
    await connect(t, `${url}/a`)
    await connect(t, `${url}/b`)
  }
  const ids = [...app.wsConnections].map((conn) => conn.id)
  t.equal(ids.length, 10)
  t.equal(new Set(ids).size, 10)
})

t.test('iteration, connections(route) and broadcast with route and filter', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/chat', { websocket: true }, () => {})
    app.get('/news', { websocket: true }, () => {})
  })
  const chat = [await connect(t, `${url}/chat`), await connect(t, `${url}/chat`), await connect(t, `${url}/chat`)]
  const news = [await connect(t, `${url}/news`)]
  const got = new Map<WebSocket, string[]>()
  for (const ws of [...chat, ...news]) got.set(ws, collect(ws))

  t.equal([...app.wsConnections].length, 4)
  const chatConns = [...app.wsConnections.connections('/chat')]
  t.equal(chatConns.length, 3)
  t.ok(chatConns.every((conn) => conn.route === '/chat'))
  t.same([...app.wsConnections.connections('/nope')], [])

  t.equal(app.wsConnections.broadcast('all'), 4)
  t.equal(app.wsConnections.broadcast('chat', { route: '/chat' }), 3)
  const chosen = chatConns[1]
  t.equal(app.wsConnections.broadcast('one', { route: '/chat', filter: (conn) => conn === chosen }), 1)
  t.equal(app.wsConnections.broadcast('news', { filter: (conn) => conn.route === '/news' }), 1)
  t.equal(app.wsConnections.broadcast('none', { route: '/nope' }), 0)

  await until(() => [...got.values()].reduce((n, list) => n + list.length, 0) === 4 + 3 + 1 + 1, 2000, 'all messages')
  for (const ws of news) t.same(got.get(ws), ['all', 'news'])
  const chatGot = chat.map((ws) => got.get(ws))
  t.equal(chatGot.filter((list) => list?.includes('one')).length, 1, 'filter reached one socket')
  for (const list of chatGot) t.same(list?.filter((m) => m !== 'one'), ['all', 'chat'])
})

t.test('stats() shape', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/a', { websocket: true }, () => {})
    app.get('/b/:id', { websocket: true }, () => {})
  })
  t.same(app.wsConnections.stats(), { connections: 0, routes: {}, accepted: 0, timedOut: 0, draining: false, broadcastSkipped: 0 })
  const a = await connect(t, `${url}/a`)
  await connect(t, `${url}/b/1`)
  await connect(t, `${url}/b/2`)
  t.strictSame(app.wsConnections.stats(), { connections: 3, routes: { '/a': 1, '/b/:id': 2 }, accepted: 3, timedOut: 0, draining: false, broadcastSkipped: 0 })
  a.close()
  await until(() => app.wsConnections.size === 2, 2000)
  t.strictSame(app.wsConnections.stats(), { connections: 2, routes: { '/b/:id': 2 }, accepted: 3, timedOut: 0, draining: false, broadcastSkipped: 0 })
})

t.test('connect and disconnect events, with the close code and reason', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/ws', { websocket: true }, () => {})
  })
  const connected: WsConnection[] = []
  app.wsConnections.on('connect', (conn) => connected.push(conn))
  const ws = await connect(t, `${url}/ws`)
  t.equal(connected.length, 1)
  t.equal(connected[0].route, '/ws')
  const disconnected = once<[WsConnection, number, string]>(app.wsConnections, 'disconnect', 2000)
  ws.close(4001, 'bye')
  const [conn, code, reason] = await disconnected
  t.equal(conn, connected[0])
  t.equal(code, 4001)
  t.equal(reason, 'bye')
  t.type(reason, 'string')
  t.equal(app.wsConnections.size, 0)
  t.equal(app.wsConnections.get(conn.socket), undefined)
})

t.test('no leak: 1000 sequential connect/close cycles', async (t) => {
  const interval = 50
  const timeout = 50
  // Every close handshake leaves a closeTimeout deadline in the scheduler (released lazily
  // when due), so the entries in flight are the closes of the last closeTimeout ms: kept
  // as short as the heartbeat's for the bound below.
  const closeTimeout = 50
  const { app, url } = await startApp(t, { interval, timeout, closeTimeout }, (app) => {
    app.get('/ws', { websocket: true }, () => {})
  })
  const manager = app.wsConnections
  let maxPending = 0
  for (let i = 0; i < 1000; i++) {
    const ws = new WebSocket(`${url}/ws`)
    await once(ws, 'open')
    const gone = once(manager, 'disconnect')
    ws.close()
    await gone
    maxPending = Math.max(maxPending, internalsOf(manager).heartbeats.pending)
  }
  t.equal(manager.size, 0)
  t.same(manager.stats().routes, {})
  t.equal(manager.stats().accepted, 1000)
  t.equal(manager.stats().timedOut, 0)
  t.ok(maxPending < 500, `scheduler stays bounded while cycling (max pending ${maxPending})`)
  // Every due time left behind by a closed connection passes within interval + timeout (+ closeTimeout).
  await until(() => internalsOf(manager).heartbeats.pending === 0, 2000, 'scheduler empty')
  t.equal(internalsOf(manager).heartbeats.pending, 0)
})

t.test('a listener that throws on connect breaks neither that connection nor others', async (t) => {
  const { lines, stream } = logLines()
  const { app, url } = await startApp(t, { interval: 50, timeout: 100 }, (app) => {
    app.get('/echo', { websocket: true }, (socket) => {
      socket.on('message', (data) => socket.send(data))
    })
  }, { logger: { level: 'error', stream } })
  app.wsConnections.on('connect', () => { throw new Error('listener bug') })
  const a = await connect(t, `${url}/echo`)
  const b = await connect(t, `${url}/echo`)
  t.equal(app.wsConnections.size, 2)
  for (const ws of [a, b]) {
    ws.send('ping?')
    const [data] = await once<[Buffer]>(ws, 'message')
    t.equal(data.toString(), 'ping?')
  }
  // Heartbeats keep running: both are pinged and stay alive over several intervals.
  let pings = 0
  a.on('ping', () => { pings++ })
  await until(() => pings >= 3, 3000, 'three heartbeats')
  t.ok(pings >= 3, `heartbeats continue (${pings} pings)`)
  t.equal(app.wsConnections.size, 2)
  t.equal(a.readyState, WebSocket.OPEN)
  t.equal(b.readyState, WebSocket.OPEN)
  t.ok(lines.some((line) => line.includes('listener bug')), 'the error is logged')
})

t.test('the websocket option is ignored with a warning when @fastify/websocket came first', async (t) => {
  const { lines, stream } = logLines()
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(websocket)
  await app.register(heartbeat, { websocket: { options: { maxPayload: 10 } } })
  await app.ready()
  const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40)
  t.equal(warnings.length, 1)
  t.match(warnings[0].msg, /websocket/)
})

t.test('no warning when the plugin registers @fastify/websocket with the websocket option', async (t) => {
  const { lines, stream } = logLines()
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(heartbeat, { websocket: { options: { maxPayload: 10 } } })
  app.get('/ws', { websocket: true }, () => {})
  const url = await listen(t, app)
  t.same(lines, [])
  // The options reached @fastify/websocket: a message over maxPayload closes with 1009.
  const ws = await connect(t, `${url}/ws`)
  ws.send('x'.repeat(100))
  const [code] = await once<[number]>(ws, 'close')
  t.equal(code, 1009)
})
