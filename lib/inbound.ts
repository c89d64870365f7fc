import type { WebSocket } from 'ws'
import type { ConnectionState } from './connection.js'
import { performance } from 'node:perf_hooks'
import { clock, clockAt } from './clock.js'
import { answerOldest, answerStamp } from './answers.js'
import { NOT_HEARTBEAT, PING, codecFor } from './modes/json.js'
import { MAX_HEARTBEAT_BYTES } from './rules/index.js'

/** Bytes queued for the peer above which its JSON pings go unanswered. */
export const MAX_PONG_BACKLOG = 1024 * 1024

const OPEN = 1

const kState = Symbol('fastify-ws-heartbeat.state')
const kEmit = Symbol('fastify-ws-heartbeat.emit')
const kSend = Symbol('fastify-ws-heartbeat.send')

type EmitFn = (event: string | symbol, ...args: unknown[]) => boolean
type SendFn = (data: unknown, options?: unknown, cb?: unknown) => void
interface HookedSocket extends WebSocket {
  [kState]: ConnectionState
  [kEmit]: EmitFn
  [kSend]: SendFn
}

/**
 * What the plugin sees of inbound frames. Pongs and pings are seen by listeners, which
 * no other layer can take away. Data messages go through one shared function in place of
 * the socket's `emit`, only because a JSON heartbeat must be answered and hidden before
 * the application's `message` listeners run; if another layer replaces `emit`, JSON
 * heartbeats reach the application, and the verdict still sees the bytes read. Installed
 * on 'connection', before the route handler adds its listeners.
 */
export function hookInbound (state: ConnectionState): void {
  const socket = state.socket as HookedSocket
  socket[kState] = state
  socket[kEmit] = socket.emit as EmitFn
  socket[kSend] = socket.send as SendFn
  socket.emit = hookedEmit as WebSocket['emit']
  socket.send = hookedSend as WebSocket['send']
  socket.on('pong', onPong)
  socket.on('ping', onPing)
}

/** Sends the plugin's own message (a JSON ping or pong): not application traffic, so not marked as sent. */
export function sendOwn (state: ConnectionState, text: string): void {
  const socket = state.socket as HookedSocket
  socket[kSend](text)
}

function onPong (this: WebSocket, data: Buffer): void {
  const state = (this as HookedSocket)[kState]
  // One clock read serves the proof of life and the round trip.
  const at = performance.now()
  state.seen = clockAt(at)
  // The plugin's pings are empty, and JSON routes are answered by JSON pongs.
  if (data.length === 0 && state.config.mode !== 'json') answerOldest(state, at)
}

function onPing (this: WebSocket): void {
  (this as HookedSocket)[kState].seen = clock()
}

// Notes that the application sent data, for the rule that traffic both ways replaces
// a heartbeat (reading the TCP socket's bytesWritten instead would copy its write queue).
function hookedSend (this: HookedSocket, data: unknown, options?: unknown, cb?: unknown): void {
  this[kState].sent = true
  const send = this[kSend]
  switch (arguments.length) {
    case 1: return send.call(this, data)
    case 2: return send.call(this, data, options)
    default: return send.call(this, data, options, cb)
  }
}

// Fixed parameters rather than rest/spread: this runs for every frame of every
// connection, and server-side `ws` events carry at most two arguments.
function hookedEmit (this: HookedSocket, event: string | symbol, a?: unknown, b?: unknown): boolean {
  if (event === 'message') {
    const state = this[kState]
    const at = performance.now()
    state.seen = clockAt(at)
    if (b === false && state.config.mode !== 'off' && consumeJsonHeartbeat(state, a as Buffer, at)) return true
  }
  switch (arguments.length) {
    case 1: return this[kEmit](event)
    case 2: return this[kEmit](event, a)
    case 3: return this[kEmit](event, a, b)
    default: return this[kEmit](event, ...Array.prototype.slice.call(arguments, 1))
  }
}

/** True when the text message (read at `at`, `performance.now()`) was a JSON heartbeat: answered if a ping, never delivered. */
function consumeJsonHeartbeat (state: ConnectionState, data: Buffer, at: number): boolean {
  // Most application messages are larger: they leave before any lookup.
  if (!Buffer.isBuffer(data) || data.length > MAX_HEARTBEAT_BYTES) return false
  const codec = codecFor(state.config.json)
  const kind = codec.read(data)
  if (kind === NOT_HEARTBEAT) return false
  const socket = state.socket
  if (kind === PING) {
    // A peer that floods pings without reading the answers would make the server queue
    // pongs without bound; past this backlog it gets none until it reads.
    if (socket.readyState === OPEN && socket.bufferedAmount < MAX_PONG_BACKLOG) sendOwn(state, codec.encoder.pong(codec.stamp))
  } else if (state.config.mode === 'json' && typeof codec.stamp === 'number') {
    answerStamp(state, codec.stamp, at)
  }
  return true
}
