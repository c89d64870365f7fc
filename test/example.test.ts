import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildExample } from '../example/server.js'

// The example as a visitor meets it: the real example server (page, client build and uPlot
// through @fastify/static, /config.json, /health/ws) and its page in headless Chromium.
const executablePath = '/usr/bin/chromium'
const root = join(__dirname, '..')
// Screenshots for the session's note; set SCREENSHOTS=dir to keep them elsewhere.
const screens = process.env.SCREENSHOTS ?? '/work/screens'

t.setTimeout(60_000)

if (!existsSync(executablePath)) {
  if (process.env.CI === 'true') t.fail(`${executablePath} is missing: install Debian's chromium package`)
  else t.plan(0, `${executablePath} is missing (apt-get install chromium); set CI=true to make this a failure`)
} else if (!existsSync(join(root, 'dist', 'esm', 'client', 'browser.js'))) {
  t.fail('dist/esm/client/browser.js is missing: run `npm run build` first (npm test does)')
} else {
  run()
}

async function screenshot (page: Page, name: string): Promise<void> {
  try {
    mkdirSync(screens, { recursive: true })
    await page.screenshot({ path: join(screens, name), fullPage: true })
  } catch {
    // A read-only or missing screenshot folder must not fail the test.
  }
}

function run (): void {
  let browser: Browser
  t.before(async () => {
    browser = await chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
  })
  t.teardown(async () => { await browser?.close() })

  t.test('the page connects, follows the server, charts, reconnects and flags a stale health poll', async (t) => {
    // timeout 2 s: a loaded test machine must not make the page's own heartbeat give up.
    const app = await buildExample({ interval: 200, timeout: 2_000, closeTimeout: 200, pretty: false, logLevel: 'warn' })
    let holdHealth = false
    let upgradesHeld: Promise<void> | null = null
    let releaseUpgrades = (): void => {}
    app.addHook('onRequest', async (req) => {
      if (holdHealth && req.url.startsWith('/health/ws')) await new Promise((resolve) => setTimeout(resolve, 3_000))
      if (upgradesHeld !== null && req.url.startsWith('/chat')) await upgradesHeld
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    t.teardown(() => app.close())
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    t.teardown(() => page.close())
    const text = (id: string): Promise<string> => page.locator(`#${id}`).innerText()

    await page.goto(origin + '/')
    await page.locator('#state[data-state="open"]').waitFor({ timeout: 10_000 })
    t.match(await text('state-detail'), 'heartbeat every 0.2 s, dead after 2 s more', "the page's heartbeat follows the server's")
    await page.waitForFunction(() => /^\d+(\.\d)? ms$/.test(document.getElementById('rtt')?.textContent ?? ''), undefined, { timeout: 5000 })
    await page.waitForFunction(() => document.getElementById('connections')?.textContent === '1', undefined, { timeout: 5000 })
    t.equal(await text('connections-line'), '1 connection', 'singular')
    t.match(await text('routes'), '/chat: 1')
    await page.waitForFunction(() => {
      const counts = (window as any).chart.counts()
      return counts.rtt >= 3 && counts.connections >= 2
    }, undefined, { timeout: 10_000 })
    t.ok(await page.locator('#chart canvas').count() > 0, 'uPlot drew its canvas')
    await screenshot(page, 'example-page.png')

    // The server drops the page: the client reconnects; a line typed meanwhile is queued,
    // and the note about it goes once the queue went out.
    // The reconnect is held at the upgrade until the line is typed.
    upgradesHeld = new Promise((resolve) => { releaseUpgrades = resolve })
    t.teardown(() => releaseUpgrades())
    for (const conn of app.wsConnections) conn.socket.terminate()
    await page.locator('#state[data-state="reconnecting"]').waitFor({ timeout: 5000 })
    await page.fill('#chat-input', 'typed while away')
    await page.press('#chat-input', 'Enter')
    t.equal(await text('chat-detail'), 'queued until the connection is back')
    await screenshot(page, 'example-reconnecting.png')
    upgradesHeld = null
    releaseUpgrades()
    await page.locator('#state[data-state="open"]').waitFor({ timeout: 10_000 })
    await page.locator('#messages li', { hasText: 'typed while away' }).waitFor({ timeout: 5000 })
    t.equal(await text('chat-detail'), '', 'the queued note is gone once the queue is sent')
    t.equal(await text('reconnects'), '1')
    t.match(await text('attempts'), /^[1-9]\d* reconnect attempts?$/)

    // A health poll that does not answer in time: no old counts, a visible "stale".
    holdHealth = true
    await page.waitForFunction(() => (document.getElementById('health-status')?.textContent ?? '').startsWith('stale'), undefined, { timeout: 8000 })
    t.equal(await text('connections'), '–', 'old counts are not shown')
    await screenshot(page, 'example-stale-health.png')
    holdHealth = false
    await page.waitForFunction(() => document.getElementById('connections')?.textContent === '1', undefined, { timeout: 8000 })
    t.same(errors, [], 'no uncaught errors in the page')
  })
}
