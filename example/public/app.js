/* global location */
// The page's logic: one HeartbeatClient on /chat, a poll of /health/ws, and the chart.
// Heartbeat settings come from the server (GET /config.json): the example server's
// HEARTBEAT_INTERVAL and HEARTBEAT_TIMEOUT drive the page's client too.
import { HeartbeatClient } from '/esm/client/browser.js'
import { createChart } from '/public/chart.js'

const $ = (id) => document.getElementById(id)
const HEALTH_POLL_MS = 1000
// A poll that has not answered by then leaves the counts stale: they are hidden, not shown old.
const HEALTH_DEADLINE_MS = 2000

const config = await (await fetch('/config.json', { cache: 'no-store' })).json()
const url = location.origin.replace(/^http/, 'ws') + config.chat.path
const options = {
  mode: 'json', // a page cannot see ping frames: JSON heartbeats are the ones it can time
  interval: config.chat.interval,
  timeout: config.chat.timeout,
  closeTimeout: config.chat.closeTimeout,
  queue: 50
}
const chart = createChart($('chart'))
window.chart = chart

let client
let opens = 0
let attempts = 0
let countdown

function time () {
  const el = document.createElement('time')
  el.textContent = new Date().toLocaleTimeString()
  return el
}

function append (list, text) {
  const li = document.createElement('li')
  li.append(time(), text)
  list.append(li)
  while (list.children.length > 200) list.firstElementChild.remove()
  list.scrollTop = list.scrollHeight
}

function showState () {
  $('state').textContent = client.state
  $('state').dataset.state = client.state
  $('toggle').textContent = client.state === 'closed' ? 'Connect' : 'Disconnect'
  if (client.state !== 'reconnecting') {
    clearInterval(countdown)
    $('reconnect-detail').textContent = ''
  }
  if (client.state !== 'open') $('rtt').textContent = '–'
}

function connect () {
  client = new HeartbeatClient(url, options)
  window.heartbeatClient = client // for poking at from the console
  showState()
  client.on('open', () => {
    // The queue went out before `open`: nothing typed is waiting any more.
    if ($('chat-detail').dataset.queued === 'true') {
      $('chat-detail').textContent = ''
      $('chat-detail').dataset.queued = 'false'
    }
    if (++opens > 1) $('reconnects').textContent = String(opens - 1)
    showState()
    $('state-detail').textContent = `heartbeat every ${seconds(options.interval)}, dead after ${seconds(options.timeout)} more (set by the server)`
    append($('events'), 'open')
  })
  client.on('latency', (ms) => {
    $('rtt').textContent = `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
    $('rtt-detail').textContent = `last heartbeat answered at ${new Date().toLocaleTimeString()}`
    chart.rtt(ms)
  })
  client.on('message', (data) => {
    append($('messages'), typeof data === 'string' ? data : `(${data.byteLength} bytes of binary)`)
  })
  client.on('timeout', () => append($('events'), 'timeout: the server stopped answering heartbeats'))
  client.on('close', (code, reason) => {
    showState()
    append($('events'), `close ${code}${reason ? ` ${reason}` : ''}`)
  })
  client.on('reconnecting', ({ attempt, delay, code }) => {
    $('attempts').textContent = `${++attempts} reconnect attempt${attempts === 1 ? '' : 's'}`
    showState()
    append($('events'), `reconnecting: attempt ${attempt} in ${(delay / 1000).toFixed(1)} s (after ${code})`)
    const at = Date.now() + delay
    clearInterval(countdown)
    const tick = () => {
      const left = Math.max(0, at - Date.now())
      $('reconnect-detail').textContent = left > 0 ? `attempt ${attempt} in ${(left / 1000).toFixed(1)} s` : `attempt ${attempt}: connecting`
    }
    tick()
    countdown = setInterval(tick, 100)
  })
  client.on('error', (err) => append($('events'), `error: ${err.message}`))
}

$('url').textContent = url
$('toggle').addEventListener('click', async () => {
  if (client.state === 'closed') return connect()
  await client.close()
  showState()
  append($('events'), 'closed by you')
})

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const text = $('chat-input').value.trim()
  if (text === '') return
  const sent = client.send(text)
  const queued = sent && client.state !== 'open'
  $('chat-detail').textContent = sent
    ? (queued ? 'queued until the connection is back' : '')
    : 'dropped: not connected and the queue is full (or closed)'
  $('chat-detail').dataset.queued = String(queued)
  if (sent) $('chat-input').value = ''
})

function seconds (ms) {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}

function showHealth (count, status, error) {
  $('connections').textContent = count === null ? '–' : String(count)
  $('connections-label').textContent = count === 1 ? 'connection' : 'connections'
  $('connections-line').classList.toggle('stale', count === null)
  $('health-status').textContent = status
  $('health-status').classList.toggle('error', error)
}

let polling = false
async function pollHealth () {
  if (polling) return // the previous poll is still waiting for its deadline
  polling = true
  try {
    const res = await fetch('/health/ws', { cache: 'no-store', signal: AbortSignal.timeout(HEALTH_DEADLINE_MS) })
    const body = await res.json()
    showHealth(typeof body.connections === 'number' ? body.connections : null, `HTTP ${res.status}: ${body.status ?? body.message ?? ''}`, !res.ok)
    if (typeof body.connections === 'number') chart.connections(body.connections)
    $('routes').replaceChildren(...Object.entries(body.routes ?? {}).map(([route, n]) => {
      const li = document.createElement('li')
      li.textContent = `${route}: ${n}`
      return li
    }))
  } catch (err) {
    const reason = err.name === 'TimeoutError' ? `stale: no answer within ${seconds(HEALTH_DEADLINE_MS)}` : `error: ${err.message}`
    showHealth(null, reason, true)
    $('routes').replaceChildren()
  } finally {
    polling = false
  }
}

connect()
pollHealth()
setInterval(pollHealth, HEALTH_POLL_MS)
