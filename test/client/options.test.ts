import t from 'tap'
import WebSocket from 'ws'
import { HeartbeatClient } from '../../lib/client/index.js'
import { defaults, resolveOptions, type WebSocketConstructor } from '../../lib/client/options.js'

const Ws = WebSocket as unknown as WebSocketConstructor
class NoPing {}

t.test('defaults are the contract', async (t) => {
  const o = resolveOptions(undefined, Ws)
  t.equal(o.mode, 'json')
  t.equal(o.interval, 20_000)
  t.equal(o.timeout, 30_000)
  t.equal(o.closeTimeout, 2_000)
  t.equal(o.connectTimeout, 10_000)
  t.same(o.json, { typeKey: 'type', ping: 'ping', pong: 'pong', timestampKey: 'timestamp' })
  t.same(o.reconnect, { initialDelay: 1000, maxDelay: 30_000, factor: 2, jitter: 0.5, maxAttempts: Infinity, shouldReconnect: undefined })
  t.equal(o.queue, 0)
  t.equal(o.WebSocket, Ws)
  t.same(resolveOptions({ reconnect: true }, Ws).reconnect, o.reconnect)
  t.equal(resolveOptions({ reconnect: false }, Ws).reconnect, false)
})

t.test('partial json and reconnect objects keep the other defaults', async (t) => {
  const o = resolveOptions({ json: { ping: 'hb' }, reconnect: { maxDelay: 5000 } }, Ws)
  t.same(o.json, { ...defaults.json, ping: 'hb' })
  t.same(o.reconnect, { ...defaults.reconnect, maxDelay: 5000, shouldReconnect: undefined })
})

t.test('invalid options throw a TypeError naming the option and the value', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['nope', /'options'.*"nope"/],
    [{ mode: 'ping' }, /'mode'.*"ping"/],
    [{ interval: 0 }, /'interval'.*received 0/],
    [{ interval: -5 }, /'interval'.*received -5/],
    [{ timeout: NaN }, /'timeout'.*received NaN/],
    [{ timeout: Infinity }, /'timeout'.*received Infinity/],
    [{ closeTimeout: '1000' }, /'closeTimeout'.*"1000"/],
    [{ connectTimeout: 0 }, /'connectTimeout'.*received 0/],
    [{ connectTimeout: -1 }, /'connectTimeout'.*-1/],
    [{ connectTimeout: Infinity }, /'connectTimeout'.*Infinity/],
    [{ connectTimeout: 2 ** 31 }, /'connectTimeout'.*2147483648/],
    [{ connectTimeout: '10s' }, /'connectTimeout'.*"10s"/],
    [{ json: { typeKey: 'k', timestampKey: 'k' } }, /'json.timestampKey'.*"k"/],
    [{ interval: 2 ** 31 }, /'interval'.*2147483648/],
    [{ json: 'type' }, /'json'.*"type"/],
    [{ json: { typeKey: '' } }, /'json.typeKey'.*""/],
    [{ json: { ping: 3 } }, /'json.ping'.*received 3/],
    [{ json: { ping: 'x', pong: 'x' } }, /'json.pong'.*"x"/],
    [{ json: { payload: {} } }, /'json.payload'.*\{\}/],
    [{ json: { type: 'ping' } }, /'json.type'.*"ping"/],
    [{ reconnect: 'yes' }, /'reconnect'.*"yes"/],
    [{ reconnect: { initialDelay: -1 } }, /'reconnect.initialDelay'.*-1/],
    [{ reconnect: { maxDelay: null } }, /'reconnect.maxDelay'.*null/],
    [{ reconnect: { factor: 0.5 } }, /'reconnect.factor'.*0.5/],
    [{ reconnect: { jitter: 1.5 } }, /'reconnect.jitter'.*1.5/],
    [{ reconnect: { maxAttempts: 2.5 } }, /'reconnect.maxAttempts'.*2.5/],
    [{ reconnect: { shouldReconnect: true } }, /'reconnect.shouldReconnect'.*true/],
    [{ reconnect: { retries: 3 } }, /'reconnect.retries'.*3/],
    [{ queue: -1 }, /'queue'.*-1/],
    [{ queue: 1.5 }, /'queue'.*1.5/],
    [{ WebSocket: 'ws' }, /'WebSocket'.*"ws"/],
    [{ intervall: 1000 }, /'intervall'.*1000/]
  ]
  for (const [options, message] of cases) {
    t.throws(() => resolveOptions(options, Ws), { name: 'TypeError', message }, JSON.stringify(options) ?? String(options))
  }
})

t.test('the constructor validates before connecting', async (t) => {
  t.throws(() => new HeartbeatClient('ws://127.0.0.1:1', { interval: -1 }), { name: 'TypeError', message: /'interval'.*-1/ })
  t.throws(() => new HeartbeatClient(42 as unknown as string), { name: 'TypeError', message: /'url'.*42/ })
})

t.test('frame mode needs a WebSocket that can send pings', async (t) => {
  t.throws(() => new HeartbeatClient('ws://127.0.0.1:1', { mode: 'frame', WebSocket: NoPing }),
    { name: 'TypeError', message: /'mode'.*"frame"/ })
  t.throws(() => resolveOptions({ mode: 'frame' }, undefined), { name: 'TypeError', message: /'WebSocket'/ },
    'no WebSocket at all (a runtime without one)')
  t.equal(resolveOptions({ mode: 'frame' }, Ws).mode, 'frame', '`ws` can')
  t.equal(resolveOptions({ mode: 'json', WebSocket: NoPing }, Ws).WebSocket, NoPing, 'json mode needs no pings')
})
