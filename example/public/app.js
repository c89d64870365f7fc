/* global location */
// The page's whole logic: one HeartbeatClient on /chat, and a poll of /health/ws.
// `?interval=1000&timeout=1500` shortens the heartbeat to watch a dead server being noticed.
import { HeartbeatClient } from '/client/browser.js'

const $ = (id) => document.getElementById(id)
const params = new URLSearchParams(location.search)
const url = location.origin.replace(/^http/, 'ws') + '/chat'
const options = {
  mode: 'json', // a page cannot see ping frames: JSON heartbeats are the ones it can time
  interval: Number(params.get('interval')) || 2000,
  timeout: Number(params.get('timeout')) || 3000,
  queue: 50
}

let client
let reconnects = 0
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
    showState()
    $('state-detail').textContent = `heartbeat every ${options.interval} ms, dead after ${options.timeout} ms more`
    append($('events'), 'open')
  })
  client.on('latency', (ms) => {
    $('rtt').textContent = `${ms} ms`
    $('rtt-detail').textContent = `last heartbeat answered at ${new Date().toLocaleTimeString()}`
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
    reconnects++
    $('reconnects').textContent = String(reconnects)
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
  $('chat-detail').textContent = sent
    ? (client.state === 'open' ? '' : 'queued until the connection is back')
    : 'dropped: not connected and the queue is full (or closed)'
  if (sent) $('chat-input').value = ''
})

async function pollHealth () {
  try {
    const res = await fetch('/health/ws', { cache: 'no-store' })
    const body = await res.json()
    $('connections').textContent = String(body.connections ?? '–')
    // With `npm run example:cluster` the body carries the totals of every instance.
    const cluster = body.cluster ? ` · cluster: ${body.cluster.connections} connections on ${body.cluster.nodes} nodes, Redis ${body.cluster.broker}` : ''
    $('health-status').textContent = `HTTP ${res.status}: ${body.status ?? body.message ?? ''}${cluster}`
    $('routes').replaceChildren(...Object.entries(body.routes ?? {}).map(([route, n]) => {
      const li = document.createElement('li')
      li.textContent = `${route}: ${n}`
      return li
    }))
  } catch {
    $('connections').textContent = '–'
    $('health-status').textContent = 'server unreachable'
    $('routes').replaceChildren()
  }
}

connect()
pollHealth()
setInterval(pollHealth, 1000)
