import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Writable } from 'node:stream'
import heartbeat, { type FastifyWsHeartbeatOptions } from '../lib/index.js'
import { connect, once, startApp } from './helpers/index.js'

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const CODE = 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION'

interface OptionError extends Error {
  code?: string
}

/** Registers the plugin with `opts` and returns what the registration threw (or null). */
async function registerError (t: Tap, opts: unknown): Promise<OptionError | null> {
  const app = Fastify()
  t.teardown(() => app.close())
  try {
    await app.register(heartbeat, opts as FastifyWsHeartbeatOptions)
    await app.ready()
  } catch (err) {
    return err as OptionError
  }
  return null
}

/** An app with the plugin loaded, on which routes can be declared (closed at teardown). */
async function loadedApp (t: Tap, opts: FastifyWsHeartbeatOptions = {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(heartbeat, opts)
  return app
}

function checkError (t: Tap, err: OptionError | null, name: string, shown: string): void {
  if (err === null) {
    t.fail(`expected ${CODE} for ${name}, nothing was thrown`)
    return
  }
  t.equal(err.code, CODE, `code (${err.message})`)
  t.ok(err.message.includes(`"${name}"`), `message names the option ${name}: ${err.message}`)
  t.ok(err.message.includes(`received ${shown}`), `message shows the value ${shown}: ${err.message}`)
}

// [option path, options, how the received value is shown in the message]
const pluginCases: Array<[string, Record<string, unknown>, string]> = [
  ['mode', { mode: 'bogus' }, "'bogus'"],
  ['mode', { mode: 1 }, '1'],
  ['json', { json: 'x' }, "'x'"],
  ['json', { json: null }, 'null'],
  ['json', { json: [] }, '[]'],
  ['json.foo', { json: { foo: 1 } }, '1'],
  ['json.payload', { json: { payload: 'x' } }, "'x'"],
  ['json.pong', { json: { ping: 'same', pong: 'same' } }, "'same'"],
  ['json.timestampKey', { json: { typeKey: 'k', timestampKey: 'k' } }, "'k'"],
  ['health', { health: 'x' }, "'x'"],
  ['health', { health: 1 }, '1'],
  ['health', { health: null }, 'null'],
  ['health.path', { health: { path: 'health' } }, "'health'"],
  ['health.path', { health: { path: 1 } }, '1'],
  ['health.foo', { health: { foo: true } }, 'true'],
  ['maxConnections', { maxConnections: 0 }, '0'],
  ['maxConnections', { maxConnections: 1.5 }, '1.5'],
  ['maxConnections', { maxConnections: -1 }, '-1'],
  ['maxConnections', { maxConnections: '10' }, "'10'"],
  ['maxConnections', { maxConnections: NaN }, 'NaN'],
  ['maxConnections', { maxConnections: -Infinity }, '-Infinity'],
  ['websocket', { websocket: 'x' }, "'x'"],
  ['websocket', { websocket: 1 }, '1'],
  ['websocket', { websocket: [] }, '[]']
]

for (const key of ['typeKey', 'ping', 'pong', 'timestampKey']) {
  pluginCases.push([`json.${key}`, { json: { [key]: '' } }, "''"])
  pluginCases.push([`json.${key}`, { json: { [key]: 1 } }, '1'])
}

const badDurations: Array<[unknown, string]> = [
  ['1000', "'1000'"],
  [null, 'null'],
  [NaN, 'NaN'],
  [Infinity, 'Infinity'],
  [0, '0'],
  [-1, '-1'],
  [2 ** 31, String(2 ** 31)]
]

for (const key of ['interval', 'timeout', 'closeTimeout']) {
  for (const [value, shown] of badDurations) {
    pluginCases.push([key, { [key]: value }, shown])
  }
}

t.test('plugin options: each invalid option throws at registration', async (t) => {
  for (const [name, opts, shown] of pluginCases) {
    await t.test(`${name} = ${shown}`, async (t) => {
      checkError(t, await registerError(t, opts), name, shown)
    })
  }
})

t.test('plugin options: valid edge values are accepted', async (t) => {
  const valid: Array<Record<string, unknown>> = [
    {},
    { maxConnections: Infinity },
    { maxConnections: 1 },
    { interval: 1, timeout: 2 ** 31 - 1, closeTimeout: 0.5 },
    { mode: 'json' },
    { mode: 'off' },
    { health: false },
    { health: true },
    { health: { path: '/status/ws' } },
    { health: {} },
    { json: { typeKey: 'kind', ping: 'hb', pong: 'hb-ack', timestampKey: 'ts', payload: () => ({}) } },
    { websocket: { options: { maxPayload: 1024 } } }
  ]
  for (const opts of valid) {
    t.equal(await registerError(t, opts), null, `accepted: ${JSON.stringify(opts)}`)
  }
})

t.test('plugin options: unknown top-level keys are ignored', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(heartbeat, { prefix: '/x', foo: 1 } as FastifyWsHeartbeatOptions)
  await app.ready()
  t.ok(app.wsConnections, 'the plugin loaded')
})

// [option path, route heartbeat option, how the received value is shown]
const routeCases: Array<[string, unknown, string]> = [
  ['heartbeat', 5, '5'],
  ['heartbeat', 'json', "'json'"],
  ['heartbeat', null, 'null'],
  ['heartbeat', [], '[]'],
  ['heartbeat.foo', { foo: 1 }, '1'],
  ['heartbeat.maxConnections', { maxConnections: 1 }, '1'],
  ['heartbeat.health', { health: false }, 'false'],
  ['heartbeat.mode', { mode: 'bogus' }, "'bogus'"],
  ['heartbeat.json', { json: 'x' }, "'x'"],
  ['heartbeat.json.foo', { json: { foo: 'bar' } }, "'bar'"],
  ['heartbeat.json.payload', { json: { payload: 1 } }, '1'],
  ['heartbeat.json.typeKey', { json: { typeKey: '' } }, "''"],
  ['heartbeat.json.ping', { json: { ping: 2 } }, '2'],
  ['heartbeat.json.pong', { json: { pong: false } }, 'false'],
  ['heartbeat.json.timestampKey', { json: { timestampKey: '' } }, "''"]
]

for (const key of ['interval', 'timeout', 'closeTimeout']) {
  for (const [value, shown] of badDurations) {
    routeCases.push([`heartbeat.${key}`, { [key]: value }, shown])
  }
}

t.test('route options: each invalid heartbeat option throws at route declaration', async (t) => {
  for (const [name, value, shown] of routeCases) {
    await t.test(`${name} = ${shown}`, async (t) => {
      const app = await loadedApp(t)
      let err: OptionError | null = null
      try {
        app.get('/ws', { websocket: true, heartbeat: value as boolean }, () => {})
      } catch (e) {
        err = e as OptionError
      }
      checkError(t, err, name, shown)
    })
  }
})

t.test('route options: wsHandler routes and app.route() are validated too', async (t) => {
  const app = await loadedApp(t)
  t.throws(() => app.route({
    method: 'GET',
    url: '/both',
    heartbeat: { interval: -5 },
    handler: (_request, reply) => { reply.send('http') },
    wsHandler: () => {}
  }), { code: CODE })
  t.throws(() => app.route({
    method: 'GET',
    url: '/ws',
    websocket: true,
    heartbeat: { mode: 'nope' as 'off' },
    handler: () => {}
  }), { code: CODE })
})

t.test('route options: valid values are accepted', async (t) => {
  const app = await loadedApp(t)
  t.doesNotThrow(() => {
    app.get('/a', { websocket: true, heartbeat: true }, () => {})
    app.get('/b', { websocket: true, heartbeat: false }, () => {})
    app.get('/c', { websocket: true, heartbeat: {} }, () => {})
    app.get('/d', { websocket: true, heartbeat: { mode: 'json', interval: 10, timeout: 10, closeTimeout: 10, json: { ping: 'hb' } } }, () => {})
  })
  await app.ready()
})

t.test('route json options merge key by key over the plugin json options', async (t) => {
  const { url } = await startApp(t, { json: { typeKey: 'kind', timestampKey: 'at' }, interval: 10_000 }, (app) => {
    app.get('/merged', { websocket: true, heartbeat: { mode: 'json', interval: 50, json: { ping: 'hb' } } }, () => {})
  })
  const ws = await connect(t, `${url}/merged`)
  const [data] = await once<[Buffer]>(ws, 'message', 2000)
  const ping = JSON.parse(data.toString())
  t.same(Object.keys(ping).sort(), ['at', 'kind'])
  t.equal(ping.kind, 'hb', 'route ping name')
  t.type(ping.at, 'number', 'plugin timestampKey kept')
  t.ok(Math.abs(ping.at - Date.now()) < 1000, 'timestamp is Date.now()')
})

/** A Fastify app that collects its warn-level log lines. */
function loggedApp (t: Tap): { app: FastifyInstance, warnings: () => string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      callback()
    }
  })
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  const warnings = (): string[] => lines
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.level === 40 && /fastify-ws-heartbeat/.test(entry.msg))
    .map((entry) => entry.msg)
  return { app, warnings }
}

t.test('55 s warning: logged once on ready for a long plugin interval', async (t) => {
  const { app, warnings } = loggedApp(t)
  await app.register(heartbeat, { interval: 55_000 })
  app.get('/ws', { websocket: true }, () => {})
  app.get('/ws2', { websocket: true }, () => {})
  t.same(warnings(), [], 'not before ready')
  await app.ready()
  t.equal(warnings().length, 1, warnings().join('\n'))
  t.match(warnings()[0], /55 s/)
})

t.test('55 s warning: logged once on ready for a long route interval', async (t) => {
  const { app, warnings } = loggedApp(t)
  await app.register(heartbeat, { interval: 1000 })
  app.get('/short', { websocket: true }, () => {})
  app.get('/long', { websocket: true, heartbeat: { interval: 60_000 } }, () => {})
  await app.ready()
  t.equal(warnings().length, 1, warnings().join('\n'))
})

t.test('55 s warning: none at 54999 ms', async (t) => {
  const { app, warnings } = loggedApp(t)
  await app.register(heartbeat, { interval: 54_999 })
  app.get('/ws', { websocket: true, heartbeat: { interval: 54_999 } }, () => {})
  await app.ready()
  t.same(warnings(), [])
})

t.test('55 s warning: none for mode off', async (t) => {
  const { app, warnings } = loggedApp(t)
  await app.register(heartbeat, { interval: 1000 })
  app.get('/off', { websocket: true, heartbeat: { mode: 'off', interval: 120_000 } }, () => {})
  app.get('/false', { websocket: true, heartbeat: false }, () => {})
  await app.ready()
  t.same(warnings(), [])
})

t.test('55 s warning: none for a plugin in mode off', async (t) => {
  const { app, warnings } = loggedApp(t)
  await app.register(heartbeat, { mode: 'off', interval: 60_000 })
  await app.ready()
  t.same(warnings(), [])
})
