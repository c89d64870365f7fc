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

type EmitFn = (this: WebSocket, event: string | symbol, ...args: unknown[]) => boolean
type SendFn = (this: WebSocket, data: unknown, options?: unknown, cb?: unknown) => void
type CloseFn = (this: WebSocket, code?: number, reason?: string | Buffer) => void
/** The prototype a tracked socket had: `ws`'s `WebSocket.prototype`, or the `WebSocket` class given to the server. */
interface SocketPrototype {
  emit: EmitFn
  send: SendFn
  close: CloseFn
}
interface HookedSocket extends WebSocket {
  [kState]: ConnectionState
}

/** The hook functions for the sockets of one prototype, shared by all of them. */
interface Hooks {
  readonly base: SocketPrototype
  readonly emit: (this: HookedSocket, event: string | symbol, a?: unknown, b?: unknown) => boolean
  readonly send: (this: HookedSocket, data: unknown, options?: unknown, cb?: unknown) => void
  readonly close: (this: HookedSocket, code?: number, reason?: string | Buffer) => void
}

// Every socket of a server has the same prototype (`ws`'s `WebSocket`, or the class given
// to the server): one set of hook functions per prototype, shared by its sockets.
const hooksByPrototype = new WeakMap<object, Hooks>()
let lastHooks: Hooks | null = null

function hooksFor (socket: WebSocket): Hooks {
  const base = Object.getPrototypeOf(socket) as SocketPrototype
  if (lastHooks !== null && lastHooks.base === base) return lastHooks
  let hooks = hooksByPrototype.get(base)
  if (hooks === undefined) {
    hooks = makeHooks(base)
    hooksByPrototype.set(base, hooks)
  }
  lastHooks = hooks
  return hooks
}

/**
 * Hooks one socket, on 'connection' (before the route handler adds its listeners):
 *
 * - the close event is seen by a listener, which no other layer can take away;
 * - data messages, pings and pongs through `emit`: a JSON heartbeat must be answered and
 *   hidden before the application's `message` listeners run, and an event seen there
 *   costs no listener (a listener on a new event grows the socket's `_events` table by
 *   96 B: BENCHMARKS.md, memory). If another layer replaces `emit`, `watchPongs` adds a
 *   'pong' listener before the next ping, so `latency` and `conn.ping()` keep working;
 *   JSON heartbeats then reach the application and data and pings stop updating
 *   `lastSeen`, while the verdict still sees the bytes read;
 * - `send` marks application traffic (the rule that traffic both ways replaces a
 *   heartbeat), `close` gives any close handshake its deadline (`ws` answers a peer's
 *   close frame by calling the socket's own `close`).
 *
 * The socket gets four properties: its state and the three shared hook functions, which
 * call the prototype's methods (a socket that already has its own `emit`, `send` or
 * `close` keeps it, wrapped by a function of its own).
 */
export function hookSocket (state: ConnectionState): void {
  const socket = state.socket as HookedSocket
  const hooks = hooksFor(socket)
  socket[kState] = state
  const ownEmit = Object.hasOwn(socket, 'emit')
  const target = socket as unknown as Record<keyof SocketPrototype, unknown>
  for (const method of HOOKED) {
    target[method] = Object.hasOwn(socket, method) ? ownHooks(hooks, method, target[method])[method] : hooks[method]
  }
  socket.on('close', onClose)
  if (ownEmit) listenForPongs(state)
}

const HOOKED: ReadonlyArray<keyof SocketPrototype> = ['emit', 'send', 'close']

/**
 * Called before each ping the plugin sends: if another layer replaced the socket's
 * `emit` since it was hooked, pongs are seen by a listener from now on.
 */
export function watchPongs (state: ConnectionState): void {
  const socket = state.socket
  if (socket.emit === hooksFor(socket).emit as unknown || state.rare?.pongListener === true) return
  listenForPongs(state)
}

function listenForPongs (state: ConnectionState): void {
  state.ensureRare().pongListener = true
  state.socket.on('pong', onPong)
}

/** The state of a socket the plugin hooked (of this or another app's plugin), or undefined. */
export function socketState (socket: WebSocket): ConnectionState | undefined {
  return (socket as Partial<HookedSocket>)[kState]
}

/** Closes with the socket's original `close`, not a wrapper another layer may have put on the socket. */
export function closeOwn (state: ConnectionState, code: number, reason: string): void {
  hooksFor(state.socket).base.close.call(state.socket, code, reason)
}

/** Hooks that call a socket's own `method` (set by another layer before the plugin saw the socket) instead of the prototype's. */
function ownHooks (hooks: Hooks, method: keyof SocketPrototype, own: unknown): Hooks {
  return makeHooks(Object.create(hooks.base, { [method]: { value: own } }) as SocketPrototype)
}

/** Sends the plugin's own message (a JSON ping or pong) through the socket's original `send`: not application traffic, so not marked as sent. */
export function sendOwn (state: ConnectionState, text: string): void {
  hooksFor(state.socket).base.send.call(state.socket, text)
}

function makeHooks (base: SocketPrototype): Hooks {
  // Fixed parameters rather than rest/spread: these run for every frame of every
  // connection, and server-side `ws` events carry at most two arguments.
  function emit (this: HookedSocket, event: string | symbol, a?: unknown, b?: unknown): boolean {
    if (event === 'message') {
      const state = this[kState]
      const at = performance.now()
      state.seen = clockAt(at)
      if (b === false && state.config.mode !== 'off' && consumeJsonHeartbeat(state, a as Buffer, at)) return true
    } else if (event === 'pong') {
      const state = this[kState]
      // With the listener (`watchPongs`), a wrapper that calls on into this hook must not count a pong twice.
      if (state.rare === null || !state.rare.pongListener) pong(state, a as Buffer)
    } else if (event === 'ping') {
      this[kState].seen = clock()
    }
    switch (arguments.length) {
      case 1: return base.emit.call(this, event)
      case 2: return base.emit.call(this, event, a)
      case 3: return base.emit.call(this, event, a, b)
      default: return base.emit.apply(this, arguments as unknown as [string | symbol, ...unknown[]])
    }
  }
  // Notes that the application sent data (reading the TCP socket's bytesWritten instead
  // would copy its write queue).
  function send (this: HookedSocket, data: unknown, options?: unknown, cb?: unknown): void {
    this[kState].sent = true
    switch (arguments.length) {
      case 1: return base.send.call(this, data)
      case 2: return base.send.call(this, data, options)
      default: return base.send.call(this, data, options, cb)
    }
  }
  function close (this: HookedSocket, code?: number, reason?: string | Buffer): void {
    switch (arguments.length) {
      case 0: base.close.call(this); break
      case 1: base.close.call(this, code); break
      default: base.close.call(this, code, reason)
    }
    const state = this[kState]
    state.owner.closing(state)
  }
  return { base, emit, send, close }
}

function onPong (this: WebSocket, data: Buffer): void {
  pong((this as HookedSocket)[kState], data)
}

function pong (state: ConnectionState, data: Buffer): void {
  // One clock read serves the proof of life and the round trip.
  const at = performance.now()
  state.seen = clockAt(at)
  // The plugin's pings are empty, and JSON routes are answered by JSON pongs.
  if (data.length === 0 && state.config.mode !== 'json') answerOldest(state, at)
}

function onClose (this: WebSocket, code: number, reason: Buffer): void {
  const state = (this as HookedSocket)[kState]
  state.owner.closed(state, code, reason.toString())
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
