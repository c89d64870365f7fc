import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

// These tests check the compiled package as users get it: `npm test` builds before tap.
const root = resolve(__dirname, '..')
const entry = join(root, 'dist', 'index.js')
const requireFromRoot = createRequire(join(root, 'package.json'))
const run = promisify(execFile)

if (!existsSync(entry)) {
  t.fail(`${entry} is missing: run \`npm run build\` first (npm test builds before tap)`)
} else {
  t.test('require() returns the plugin, with .default and .fastifyWsHeartbeat', async (t) => {
    const plugin = requireFromRoot(entry)
    t.type(plugin, 'function')
    t.equal(plugin.default, plugin)
    t.equal(plugin.fastifyWsHeartbeat, plugin)
    t.type(plugin.FST_ERR_WS_HEARTBEAT_INVALID_OPTION, 'function')
    t.equal(new plugin.FST_ERR_WS_HEARTBEAT_INVALID_OPTION('a', 'b', 'c').code, 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION')
    t.type(plugin.WsConnectionManager, 'function')
    t.type(plugin.WsConnection, 'function')
  })

  t.test('fastify-plugin metadata', async (t) => {
    const plugin = requireFromRoot(entry)
    t.match(plugin[Symbol.for('plugin-meta')], { name: 'fastify-ws-heartbeat', fastify: '5.x' })
    t.equal(plugin[Symbol.for('skip-override')], true, 'not encapsulated')
    t.equal(plugin[Symbol.for('fastify.display-name')], 'fastify-ws-heartbeat')
  })

  t.test('ESM import of the compiled file', async (t) => {
    const code = [
      `import hb, { fastifyWsHeartbeat, FST_ERR_WS_HEARTBEAT_INVALID_OPTION, WsConnectionManager, WsConnection } from ${JSON.stringify(entry)}`,
      'const ok = typeof hb === "function" && hb === fastifyWsHeartbeat && hb.default === hb &&',
      '  typeof FST_ERR_WS_HEARTBEAT_INVALID_OPTION === "function" && typeof WsConnectionManager === "function" &&',
      '  typeof WsConnection === "function"',
      'process.stdout.write(ok ? "ok" : "bad")'
    ].join('\n')
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root })
    t.equal(stdout, 'ok')
  })

  t.test('ESM import by package name (self-reference through the exports map)', async (t) => {
    const code = [
      "import hb, { fastifyWsHeartbeat } from 'fastify-ws-heartbeat'",
      "import Fastify from 'fastify'",
      'const app = Fastify()',
      'await app.register(hb, { interval: 1000 })',
      "app.get('/ws', { websocket: true }, () => {})",
      'await app.ready()',
      'process.stdout.write(String(hb === fastifyWsHeartbeat && app.wsConnections.size === 0))',
      'await app.close()'
    ].join('\n')
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root })
    t.equal(stdout, 'true')
  })

  t.test('the exports map resolves the package name to dist/index.js', async (t) => {
    t.equal(requireFromRoot.resolve('fastify-ws-heartbeat'), entry)
    t.equal(requireFromRoot('fastify-ws-heartbeat'), requireFromRoot(entry))
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    t.equal(pkg.name, 'fastify-ws-heartbeat')
    t.equal(pkg.exports['.'].types, './dist/index.d.ts')
    t.ok(existsSync(join(root, pkg.exports['.'].types)), 'the declared types exist')
    t.equal(requireFromRoot.resolve('fastify-ws-heartbeat/package.json'), join(root, 'package.json'))
  })

  t.test('a require()d plugin registers and throws its coded errors', async (t) => {
    const plugin = requireFromRoot(entry)
    const Fastify = requireFromRoot('fastify')
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(plugin, { interval: -1 }) }, { code: 'FST_ERR_WS_HEARTBEAT_INVALID_OPTION' })
  })
}

if (existsSync(entry)) {
  t.test('every file named by the exports map exists, the browser condition included', async (t) => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    const targets: string[] = []
    const walk = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value)
      else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk)
    }
    walk(pkg.exports)
    t.ok(targets.includes('./dist/esm/client/browser.d.ts'), 'the browser build has its own types')
    for (const target of targets) t.ok(existsSync(join(root, target)), target)
  })

  t.test('the declaration of the entry has the Fastify plugins\' export = shape', async (t) => {
    const declaration = readFileSync(join(root, 'dist', 'index.d.ts'), 'utf8')
    t.match(declaration, /^export = fastifyWsHeartbeat$/m)
    t.match(declaration, /export \{ fastifyWsHeartbeat as default \}/)
  })
}
