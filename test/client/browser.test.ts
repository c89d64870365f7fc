import t from 'tap'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { WebSocketServer, type WebSocket } from 'ws'

// A real browser, loading the ES-module build (dist/esm/client, made by `npm run build`)
// against a plain node:http + ws server: no plugin involved (the example page: test/example.test.ts).
const executablePath = '/usr/bin/chromium'
const root = join(__dirname, '..', '..')
const esm = join(root, 'dist', 'esm', 'client')

if (!existsSync(executablePath)) {
  if (process.env.CI === 'true') t.fail(`${executablePath} is missing: install Debian's chromium package`)
  else t.plan(0, `${executablePath} is missing (apt-get install chromium); set CI=true to make this a failure`)
} else if (!existsSync(join(esm, 'browser.js'))) {
  t.fail('dist/esm/client/browser.js is missing: run `npm run build` first (npm test does)')
} else {
  run()
}

const testPage = `<!doctype html><meta charset="utf-8"><title>test</title>
<script type="module">
import { HeartbeatClient } from '/client/browser.js'
const events = window.events = []
const open = (path, options) => {
  const c = new HeartbeatClient(location.origin.replace(/^http/, 'ws') + path, options)
  for (const name of ['open', 'timeout', 'close', 'reconnecting', 'latency', 'error']) {
    c.on(name, (arg) => events.push([path, name, name === 'error' ? String(arg) : arg]))
  }
  c.on('message', (data) => events.push([path, 'message', typeof data === 'string' ? data : 'ArrayBuffer:' + (data instanceof ArrayBuffer) + ':' + data.byteLength]))
  return c
}
window.open = open
window.chat = open('/chat', { interval: 100, timeout: 1000 })
</script>`

const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' }

async function serveFile (res: ServerResponse, file: string): Promise<void> {
  try {
    const body = await readFile(file)
    res.writeHead(200, { 'content-type': `${types[extname(file)] ?? 'application/octet-stream'}; charset=utf-8` }).end(body)
  } catch {
    res.writeHead(404).end()
  }
}

async function startServer (t: tap.Test) {
  const chat = new WebSocketServer({ noServer: true })
  const silent = new WebSocketServer({ noServer: true, autoPong: false })
  const received: string[] = []
  chat.on('connection', (ws: WebSocket) => {
    ws.send('{"type":"ping","timestamp":5}')
    ws.send(Buffer.from([1, 2, 3]))
    ws.on('message', (data, isBinary) => {
      const text = data.toString()
      received.push(text)
      const msg = isBinary ? undefined : safeParse(text)
      if (msg?.type === 'ping') return ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }))
      if (msg?.type === 'pong') return
      for (const peer of chat.clients) peer.send(text)
    })
  })
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const file = /^\/(client|public)\/([\w.-]+)$/.exec(path)
    if (path === '/test.html') res.writeHead(200, { 'content-type': 'text/html' }).end(testPage)
    else if (path === '/') serveFile(res, join(root, 'example', 'public', 'index.html'))
    else if (file?.[1] === 'client') serveFile(res, join(esm, file[2]))
    else if (file?.[1] === 'public') serveFile(res, join(root, 'example', 'public', file[2]))
    else if (path === '/health/ws') {
      const body = { status: 'ok', connections: chat.clients.size, routes: chat.clients.size > 0 ? { '/chat': chat.clients.size } : {} }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
    } else res.writeHead(404).end()
  })
  server.on('upgrade', (req, socket, head) => {
    const wss = req.url === '/chat' ? chat : req.url === '/silent' ? silent : undefined
    if (wss === undefined) return socket.destroy()
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const ws of [...chat.clients, ...silent.clients]) ws.terminate()
    server.closeAllConnections()
    server.close()
  })
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, chat, received }
}

function safeParse (text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

async function newPage (t: tap.Test, browser: Browser): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  t.teardown(() => page.close())
  return { page, errors }
}

function run (): void {
  let browser: Browser
  t.before(async () => {
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
  })
  t.teardown(async () => { await browser?.close() })

  t.test('the ES-module build opens, times heartbeats, answers and hides server pings', async (t) => {
    const { origin, received } = await startServer(t)
    const { page, errors } = await newPage(t, browser)
    await page.goto(`${origin}/test.html`)
    await page.waitForFunction(() => (window as any).events.some((e: unknown[]) => e[1] === 'latency'), undefined, { timeout: 10_000 })
    const state = await page.evaluate(() => ({ state: (window as any).chat.state, latency: (window as any).chat.latency }))
    t.equal(state.state, 'open')
    t.type(state.latency, 'number')
    t.ok(state.latency >= 0 && state.latency < 1000, `round trip ${state.latency} ms`)
    await page.evaluate(() => (window as any).chat.send('hello from the browser'))
    await page.waitForFunction(() => (window as any).events.some((e: unknown[]) => e[2] === 'hello from the browser'), undefined, { timeout: 5000 })
    const events = await page.evaluate(() => (window as any).events as unknown[][])
    t.same(events.filter((e) => e[1] === 'message').map((e) => e[2]), ['ArrayBuffer:true:3', 'hello from the browser'],
      'binary arrives as an ArrayBuffer; the server ping is hidden')
    t.ok(received.includes('{"type":"pong","timestamp":5}'), 'the server ping was answered')
    const ping = received.map(safeParse).find((msg) => msg?.type === 'ping')
    t.match(ping, { type: 'ping', timestamp: Number }, 'the page sends JSON pings')
    t.same(errors, [], 'no uncaught errors in the page')
  })

  t.test('a silent server is dropped with 4000 and the page reconnects', async (t) => {
    const { origin } = await startServer(t)
    const { page, errors } = await newPage(t, browser)
    await page.goto(`${origin}/test.html`)
    await page.evaluate(() => { (window as any).silent = (window as any).open('/silent', { interval: 100, timeout: 100, reconnect: { initialDelay: 50, jitter: 0 } }) })
    await page.waitForFunction(() => (window as any).events.filter((e: unknown[]) => e[0] === '/silent' && e[1] === 'open').length >= 2,
      undefined, { timeout: 10_000 })
    const events = await page.evaluate(() => (window as any).events.filter((e: unknown[]) => e[0] === '/silent').map((e: unknown[]) => [e[1], e[2]]))
    t.same(events.slice(0, 5), [
      ['open', undefined],
      ['timeout', undefined],
      ['close', 4000],
      ['reconnecting', { attempt: 1, delay: 50, code: 4000, reason: 'heartbeat timeout' }],
      ['open', undefined]
    ])
    t.same(errors, [], 'no uncaught errors in the page')
  })
}
