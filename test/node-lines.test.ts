import t from 'tap'
import type { WebSocketConstructor } from '../lib/client/index.js'
import { client, next } from './helpers/client.js'
import { sleep, startApp, until } from './helpers/index.js'

// The one difference between Node.js 20, 22 and 24 that reaches users of this package: from
// 22.4 on, Node has a global WHATWG `WebSocket` (undici); 20 has none without
// --experimental-websocket. The same client code therefore picks a different socket per line
// (docs/node-versions.md). scripts/node-matrix.js runs this file on each line.
const major = Number(process.versions.node.split('.')[0])
const NodeWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket

t.setTimeout(20_000)

t.test('a global WebSocket on 22 and 24, none on 20', async (t) => {
  t.equal(typeof NodeWebSocket === 'function', major >= 22, `Node ${process.version}`)
})

t.test("{ mode: 'json', WebSocket: globalThis.WebSocket } keeps a connection alive on every line", async (t) => {
  const agents: Array<string | undefined> = []
  const { app, url } = await startApp(t, { mode: 'json', interval: 100, timeout: 200 }, (app) => {
    app.get('/chat', { websocket: true }, (socket, req) => {
      agents.push(req.headers['user-agent'])
      socket.on('message', (data) => socket.send(data.toString()))
    })
  })
  // On 20 the option is undefined and the Node entry's default, `ws`, is used.
  const c = client(t, `${url}/chat`, { mode: 'json', interval: 100, timeout: 200, WebSocket: NodeWebSocket })
  await next(c, 'open')
  // Which socket shook hands: undici's handshake says `user-agent: node`, `ws` sends none.
  t.equal(agents[0], major >= 22 ? 'node' : undefined, major >= 22 ? 'undici' : 'ws')

  const [latency] = await next(c, 'latency', 2000)
  t.ok(latency >= 0, 'the server answers the client\'s JSON pings')
  const conn = [...app.wsConnections][0]
  await until(() => conn.latency !== null, 2000, 'a server ping answered')
  c.send('hello')
  const [echo] = await next(c, 'message', 2000)
  t.equal(echo, 'hello', 'application messages pass; heartbeats are not among them')

  // Five intervals: every heartbeat each way answered in time.
  await sleep(500)
  t.equal(app.wsConnections.size, 1)
  t.equal(app.wsConnections.stats().timedOut, 0, 'no heartbeat timeout on the server')
  t.equal(c.state, 'open', 'no heartbeat timeout on the client')
})

t.test("{ mode: 'frame', WebSocket: globalThis.WebSocket }: `ws` on 20, a clear error from 22 on", async (t) => {
  const { url } = await startApp(t, { interval: 100, timeout: 200 }, (app) => {
    app.get('/echo', { websocket: true }, () => {})
  })
  if (major >= 22) {
    // A WHATWG WebSocket cannot send or see ping frames.
    t.throws(() => client(t, `${url}/echo`, { mode: 'frame', interval: 100, timeout: 200, WebSocket: NodeWebSocket }), {
      name: 'TypeError',
      message: /option 'mode' must be 'json' or 'off' with a WebSocket that cannot send pings/
    })
  } else {
    const c = client(t, `${url}/echo`, { mode: 'frame', interval: 100, timeout: 200, WebSocket: NodeWebSocket })
    await next(c, 'open')
    const [latency] = await next(c, 'latency', 2000)
    t.ok(latency >= 0, 'frame heartbeats over `ws`')
  }
})
