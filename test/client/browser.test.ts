import t from 'tap'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { WebSocketServer, type WebSocket } from 'ws'
import { until } from '../helpers/client.js'

// A real browser, loading the ES-module build (dist/esm/client and the dist/esm/rules it
// imports, made by `npm run build`) against a plain node:http + ws server: no plugin
// involved (the example page: test/example.test.ts).
const executablePath = '/usr/bin/chromium'
const root = join(__dirname, '..', '..')
const esm = join(root, 'dist', 'esm')

if (!existsSync(executablePath)) {
  if (process.env.CI === 'true') t.fail(`${executablePath} is missing: install Debian's chromium package`)
  else t.plan(0, `${executablePath} is missing (apt-get install chromium); set CI=true to make this a failure`)
} else if (!existsSync(join(esm, 'client', 'browser.js'))) {
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
  // Upgrade requests to /hang are read and never answered, as by a stuck proxy or server.
  const hanging = new Set<import('node:stream').Duplex>()
  /** [when, bytes] of each message a /slowread connection received. */
  const uploads: Array<[number, number]> = []
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
    const file = /^\/(client|rules|public)\/([\w.-]+)$/.exec(path)
    if (path === '/test.html') res.writeHead(200, { 'content-type': 'text/html' }).end(testPage)
    else if (path === '/') serveFile(res, join(root, 'example', 'public', 'index.html'))
    else if (file?.[1] === 'client' || file?.[1] === 'rules') serveFile(res, join(esm, file[1], file[2]))
    else if (file?.[1] === 'public') serveFile(res, join(root, 'example', 'public', file[2]))
    else if (path === '/health/ws') {
      const body = { status: 'ok', connections: chat.clients.size, routes: chat.clients.size > 0 ? { '/chat': chat.clients.size } : {} }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
    } else res.writeHead(404).end()
  })
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/hang') {
      hanging.add(socket)
      socket.on('close', () => hanging.delete(socket))
      return
    }
    if (req.url === '/slowread') {
      // Never answers, and reads at most 32 KiB every 10 ms (about 3 MB/s).
      return silent.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data: Buffer) => uploads.push([performance.now(), data.length]))
        socket.pause()
        // read(n) waits for n bytes (raising the buffer to n); read() takes a shorter tail.
        const timer = setInterval(() => socket.read(32 * 1024) ?? socket.read(), 10)
        socket.on('close', () => clearInterval(timer))
      })
    }
    const wss = req.url === '/chat' ? chat : req.url === '/silent' ? silent : undefined
    if (wss === undefined) return socket.destroy()
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const ws of [...chat.clients, ...silent.clients]) ws.terminate()
    for (const socket of hanging) socket.destroy()
    server.closeAllConnections()
    server.close()
  })
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, chat, received, hanging, uploads }
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

  t.test('connectTimeout: an upgrade never answered is abandoned and retried', async (t) => {
    const { origin, hanging } = await startServer(t)
    const { page, errors } = await newPage(t, browser)
    await page.goto(`${origin}/test.html`)
    await page.evaluate(() => {
      (window as any).hang = (window as any).open('/hang', { connectTimeout: 300, reconnect: { initialDelay: 100, factor: 1, jitter: 0 } })
    })
    await page.waitForFunction(() => (window as any).events.filter((e: unknown[]) => e[0] === '/hang' && e[1] === 'reconnecting').length >= 2,
      undefined, { timeout: 10_000 })
    const result = await page.evaluate(() => ({
      state: (window as any).hang.state,
      events: (window as any).events.filter((e: unknown[]) => e[0] === '/hang').map((e: unknown[]) => [e[1], e[2]])
    }))
    t.equal(result.state, 'reconnecting')
    const reconnecting = result.events.filter((e: unknown[]) => e[0] === 'reconnecting')
    t.same(reconnecting.slice(0, 2).map((e: unknown[]) => e[1]), [
      { attempt: 1, delay: 100, code: 1006, reason: '' },
      { attempt: 2, delay: 100, code: 1006, reason: '' }
    ])
    t.match(result.events.find((e: unknown[]) => e[0] === 'error')?.[1], /connectTimeout \(300 ms\)/)
    t.notOk(result.events.some((e: unknown[]) => e[0] === 'open' || e[0] === 'close'), 'never opened, so no open or close')
    t.ok(hanging.size >= 1, 'the attempts reached the server, which never answered')
    // A page cannot destroy a TCP connection; close() on a connecting WebSocket is what it
    // can do, and the browser decides when the connection goes.
    await page.evaluate(() => (window as any).hang.close())
    t.same(errors, [], 'no uncaught errors in the page')
  })

  t.test('data leaving the page (bufferedAmount shrinking) proves the server is reading', async (t) => {
    const { origin, uploads } = await startServer(t)
    const { page, errors } = await newPage(t, browser)
    await page.goto(`${origin}/test.html`)
    const upload = 16 * 1024 * 1024
    const start = performance.now()
    await page.evaluate((upload) => {
      const c = (window as any).upload = (window as any).open('/slowread', { interval: 1000, timeout: 2000, reconnect: false })
      c.on('open', () => c.send(new ArrayBuffer(upload)))
    }, upload)
    // Chromium's bufferedAmount falls in steps of ~1.5 MB, up to ~2 s apart on a busy
    // machine: hence timeout 2000. The upload takes ~5 s to be read (and send() itself
    // can hold the page for a second or two).
    await until(t, 'the server read the whole upload', () => uploads.length > 0, 20_000)
    const took = uploads[0][0] - start
    t.equal(uploads[0][1], upload)
    t.ok(took > 1000 + 2000, `reading took ${took.toFixed(0)} ms, more than interval + timeout`)
    const result = await page.evaluate(() => ({
      state: (window as any).upload.state,
      events: (window as any).events.filter((e: unknown[]) => e[0] === '/slowread').map((e: unknown[]) => e[1])
    }))
    t.equal(result.state, 'open', 'still open, though the server never answered a heartbeat')
    t.same(result.events, ['open'], 'no timeout')
    t.same(errors, [], 'no uncaught errors in the page')
  })
}
