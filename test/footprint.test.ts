import t from 'tap'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import WebSocket from 'ws'
import type { AddressInfo } from 'node:net'
import heartbeat from '../lib/index.js'
import { ConnectionState, type TrackedRoute } from '../lib/connection.js'
import { answerOldest, answerStamp, expectAnswer, sendStamp } from '../lib/answers.js'
import { EPOCH, clockAt } from '../lib/clock.js'
import { DEFAULT_JSON } from '../lib/options.js'
import { connect, sleep, until, type TestTap } from './helpers/index.js'

// What one connection costs is set by how many fields it adds and whether they hold small
// integers (BENCHMARKS.md, memory): these tests pin the shape, not a byte count.

const WRAP_MS = 2 ** 21
const SMI_MAX = 2 ** 31 - 1

function stubState (): ConnectionState {
  const owner = { idPrefix: 't', probe: async () => 0, closing: () => {}, closed: () => {} }
  const route: TrackedRoute = { url: '/', config: { mode: 'frame', interval: 1000, timeout: 1000, closeTimeout: 1000, json: DEFAULT_JSON }, observer: undefined, owner }
  return new ConnectionState(route, 0, { _socket: null } as unknown as WebSocket, 1)
}

t.test('send stamps and round trips stay small integers whatever the process uptime', async (t) => {
  for (const perf of [0, 1.5, WRAP_MS - 0.25, 10 * 86_400_000 + 0.999, 400 * 86_400_000 + 12.3456]) {
    const stamp = sendStamp(perf)
    t.ok(Number.isInteger(stamp) && stamp >= 0 && stamp <= SMI_MAX, `uptime ${perf} ms: stamp ${stamp}`)
    const state = stubState()
    expectAnswer(state, stamp)
    answerOldest(state, perf + 12.5)
    t.ok(Number.isInteger(state.latencyUs), 'latency kept in whole µs')
    t.ok(Math.abs(state.latencyUs - 12_500) <= 1, `latency ${state.latencyUs} µs for a 12.5 ms round trip`)
    t.equal(state.awaiting, -1, 'nothing left waiting')
  }
})

t.test('a round trip across the stamp wrap (every ~35 min of uptime) is exact', async (t) => {
  const state = stubState()
  expectAnswer(state, sendStamp(3 * WRAP_MS - 0.4))
  answerOldest(state, 3 * WRAP_MS + 0.6)
  t.equal(state.latencyUs, 1000)
})

t.test('a JSON pong matches its ping by the epoch ms it carries, across the wrap too', async (t) => {
  for (const perf of [100.7, WRAP_MS - 0.3, 5 * WRAP_MS + 17.9]) {
    const state = stubState()
    expectAnswer(state, sendStamp(perf))
    expectAnswer(state, sendStamp(perf + 200))
    // The peer echoes the second ping's timestamp: the first is given up.
    answerStamp(state, EPOCH + clockAt(perf + 200), perf + 250)
    t.ok(Math.abs(state.latencyUs - 50_000) <= 1, `uptime ${perf}: latency ${state.latencyUs} µs`)
    t.equal(state.awaiting, -1)
    // A timestamp 2^21 ms off shares the wrapped ms but is not a real answer: nothing waits.
    answerStamp(state, EPOCH + clockAt(perf + 200) + WRAP_MS, perf + 300)
    t.ok(Math.abs(state.latencyUs - 50_000) <= 1, 'unchanged by an echo of nothing waiting')
  }
  const state = stubState()
  expectAnswer(state, sendStamp(1000))
  for (const bogus of [Number.NaN, -5, 1.5, EPOCH + 999.5, 2 ** 60]) answerStamp(state, bogus, 1010)
  t.equal(state.latencyUs, -1, 'stamps that were never sent answer nothing')
  t.not(state.awaiting, -1)
})

async function appWithEarlyListener (t: TestTap, onConnection: (socket: WebSocket) => void): Promise<{ app: ReturnType<typeof Fastify>, url: string }> {
  const app = Fastify()
  // @fastify/websocket first, so that a 'connection' listener runs before the plugin's.
  await app.register(websocket)
  app.websocketServer.on('connection', onConnection)
  await app.register(heartbeat, { interval: 100, timeout: 300 })
  app.get('/frame', { websocket: true }, () => {})
  app.get('/json', { websocket: true, heartbeat: { mode: 'json' } }, (socket) => {
    socket.on('message', (data) => socket.send(`echo ${data.toString()}`))
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return { app, url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

t.test('the plugin adds four properties to a socket: its state and the emit, send and close hooks', { timeout: 10000 }, async (t) => {
  let before: Array<string | symbol> = []
  let socket: WebSocket | null = null
  const { app, url } = await appWithEarlyListener(t, (s) => {
    before = Reflect.ownKeys(s)
    socket = s
  })
  await connect(t, `${url}/frame`)
  await until(() => app.wsConnections.size === 1, 2000)
  const added = Reflect.ownKeys(socket as unknown as WebSocket).filter((k) => !before.includes(k))
  t.equal(added.length, 4, `added: ${added.map(String).join(', ')}`)
  t.same(added.filter((k) => typeof k === 'string').sort(), ['close', 'emit', 'send'])
  const s = socket as unknown as WebSocket
  t.equal(s.listenerCount('ping'), 0, 'pings are seen through emit, not a listener')
  t.equal(s.listenerCount('pong'), 0, 'pongs too')
  t.equal(s.listenerCount('close'), 2, 'the close event by a listener (and ws\'s own client tracking)')
})

t.test('emit replaced by another layer: pongs get a listener before the next ping, counted once', { timeout: 15000 }, async (t) => {
  const LATE = 250
  for (const chained of [false, true]) {
    const app = Fastify()
    await app.register(heartbeat, { interval: 100, timeout: 600 })
    let server: WebSocket | null = null
    app.get('/', { websocket: true }, (socket) => {
      server = socket
      const hooked = socket.emit
      socket.emit = chained
        ? function (this: WebSocket, ...args: Parameters<typeof hooked>) { return hooked.apply(this, args) } as typeof hooked
        : function (this: WebSocket, ...args: Parameters<typeof hooked>) { return WebSocket.prototype.emit.apply(this, args) } as typeof hooked
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    t.teardown(() => app.close())
    // Answers come 250 ms late, so pings wait in a queue: a pong counted twice would
    // answer two of them and the round trips would read short.
    const ws = await connect(t, `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`, { autoPong: false })
    ws.on('ping', (data) => { setTimeout(() => { if (ws.readyState === WebSocket.OPEN) ws.pong(data) }, LATE) })
    await until(() => app.wsConnections.size === 1, 2000)
    const conn = [...app.wsConnections][0]
    await sleep(1200)
    const what = chained ? 'chained wrapper' : 'replacing wrapper'
    t.equal((server as unknown as WebSocket).listenerCount('pong'), 1, `${what}: one pong listener`)
    const latency = conn.latency as number
    t.ok(latency !== null && latency >= LATE - 10 && latency <= LATE + 120, `${what}: latency ${latency} ms (answers ${LATE} ms late)`)
    t.equal(app.wsConnections.stats().timedOut, 0)
    ws.close()
    await until(() => app.wsConnections.size === 0, 2000, 'untracked after close')
  }
})

t.test('sockets of one server share the hook functions', { timeout: 10000 }, async (t) => {
  const sockets: WebSocket[] = []
  const { app, url } = await appWithEarlyListener(t, (s) => { sockets.push(s) })
  await connect(t, `${url}/frame`)
  await connect(t, `${url}/json`)
  await until(() => app.wsConnections.size === 2, 2000)
  t.equal(sockets[0].emit, sockets[1].emit)
  t.equal(sockets[0].send, sockets[1].send)
  t.equal(sockets[0].close, sockets[1].close)
})

t.test('a socket that already had its own emit/send/close keeps them, wrapped', { timeout: 10000 }, async (t) => {
  const calls = { emit: 0, send: 0, close: 0 }
  const { app, url } = await appWithEarlyListener(t, (s) => {
    const { emit, send, close } = s
    s.emit = function (this: WebSocket, ...args: Parameters<typeof emit>) { calls.emit++; return emit.apply(this, args) } as typeof emit
    s.send = function (this: WebSocket, ...args: Parameters<typeof send>) { calls.send++; return send.apply(this, args) } as typeof send
    s.close = function (this: WebSocket, ...args: Parameters<typeof close>) { calls.close++; return close.apply(this, args) } as typeof close
  })
  const ws = await connect(t, `${url}/json`)
  const got: string[] = []
  ws.on('message', (data) => got.push(data.toString()))
  await until(() => app.wsConnections.size === 1, 2000)
  const conn = [...app.wsConnections][0]
  // The client answers the plugin's JSON pings; its own JSON ping is answered, never echoed.
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString().startsWith('{') ? data.toString() : '{}')
    if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }))
  })
  ws.send(JSON.stringify({ type: 'ping', timestamp: 42 }))
  ws.send('hello')
  await until(() => got.includes('echo hello') && conn.latency !== null, 3000, 'echo and a round trip')
  t.ok(got.some((m) => m.includes('"pong"') && m.includes('42')), 'the client\'s JSON ping was answered')
  t.notOk(got.some((m) => m.startsWith('echo {')), 'JSON heartbeats never reached the handler')
  t.ok(calls.emit > 0 && calls.send > 0, 'the earlier wrappers still run')
  conn.socket.close(4000)
  await until(() => app.wsConnections.size === 0, 2000, 'untracked after close')
  // `ws` calls close() again when the peer's close frame comes back.
  t.ok(calls.close >= 1, `the earlier close wrapper ran (${calls.close} calls)`)
  await sleep(50)
})

t.test('the public view of a connection is one object, made on demand', { timeout: 10000 }, async (t) => {
  const seen: unknown[] = []
  let socket: WebSocket | null = null
  const { app, url } = await appWithEarlyListener(t, (s) => { socket = s })
  app.wsConnections.on('connect', (conn: unknown) => seen.push(conn))
  await connect(t, `${url}/frame`)
  await until(() => app.wsConnections.size === 1, 2000)
  const fromGet = app.wsConnections.get(socket as unknown as WebSocket)
  t.ok(fromGet !== undefined)
  t.equal(fromGet, seen[0], 'connect listener and get() see the same object')
  t.equal([...app.wsConnections][0], fromGet, 'and so does iteration')
  t.equal([...app.wsConnections.connections('/frame')][0], fromGet)
})

t.test('get() knows only this app\'s live sockets', { timeout: 10000 }, async (t) => {
  let socket: WebSocket | null = null
  const a = await appWithEarlyListener(t, (s) => { socket = s })
  const b = await appWithEarlyListener(t, () => {})
  await connect(t, `${a.url}/frame`)
  await until(() => a.app.wsConnections.size === 1, 2000)
  const s = socket as unknown as WebSocket
  t.ok(a.app.wsConnections.get(s) !== undefined)
  t.equal(b.app.wsConnections.get(s), undefined, 'another app\'s manager does not claim it')
  s.close()
  await until(() => a.app.wsConnections.size === 0, 2000)
  t.equal(a.app.wsConnections.get(s), undefined, 'gone once untracked')
})
