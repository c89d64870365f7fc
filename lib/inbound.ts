import { performance } from 'node:perf_hooks'
import type { WebSocket } from 'ws'
import type { WsConnection } from './connection.js'
import { clock, EPOCH } from './clock.js'
import { isAnswerToLastPing } from './modes/frame.js'
import { codecFor, MAX_HEARTBEAT_BYTES } from './modes/json.js'

export interface InboundHost {
  closed (conn: WsConnection, code: number, reason: string): void
}

/** Bytes queued for the peer above which its JSON pings go unanswered. */
export const MAX_PONG_BACKLOG = 1024 * 1024

const kConnection = Symbol('fastify-ws-heartbeat.connection')
const kEmit = Symbol('fastify-ws-heartbeat.emit')
const kSend = Symbol('fastify-ws-heartbeat.send')
const kHost = Symbol('fastify-ws-heartbeat.host')

type EmitFn = (event: string | symbol, ...args: unknown[]) => boolean
interface HookedSocket extends WebSocket {
  [kConnection]: WsConnection
  [kEmit]: EmitFn
  [kSend]: WebSocket['send']
  [kHost]: InboundHost
}

/**
 * Sees every event of the socket before its listeners do, without adding a listener per
 * message: `ws` delivers frames by `emit`, so one shared function in place of the
 * socket's `emit` updates `lastSeen`, answers and hides JSON heartbeats, and notices the
 * close. It is installed on 'connection', before the route handler adds its listeners.
 */
export function hookSocket (socket: WebSocket, conn: WsConnection, host: InboundHost): void {
  const hooked = socket as HookedSocket
  hooked[kConnection] = conn
  hooked[kHost] = host
  hooked[kEmit] = socket.emit as EmitFn
  hooked[kSend] = socket.send
  socket.emit = hookedEmit as WebSocket['emit']
  socket.send = hookedSend as WebSocket['send']
}

// Notes that the application sent data, for the rule that traffic both ways replaces
// a heartbeat (reading the TCP socket's bytesWritten instead would copy its write queue).
function hookedSend (this: HookedSocket, data: unknown, options?: unknown, cb?: unknown): void {
  this[kConnection]._sent = true
  const send = this[kSend] as (...args: unknown[]) => void
  switch (arguments.length) {
    case 1: return send.call(this, data)
    case 2: return send.call(this, data, options)
    default: return send.call(this, data, options, cb)
  }
}

// Fixed parameters rather than rest/spread: this runs for every frame of every
// connection, and server-side `ws` events carry at most two arguments.
function hookedEmit (this: HookedSocket, event: string | symbol, a?: unknown, b?: unknown): boolean {
  const conn = this[kConnection]
  switch (event) {
    case 'message':
      conn._seen = clock()
      if (b === false && conn.mode !== 'off' && Buffer.isBuffer(a) && consumeJsonHeartbeat(conn, a)) return true
      break
    case 'pong':
      conn._seen = clock()
      if (isAnswerToLastPing(conn, a)) answered(conn)
      break
    case 'ping':
      conn._seen = clock()
      break
    case 'close':
      this[kHost].closed(conn, a as number, String(b ?? ''))
      break
  }
  switch (arguments.length) {
    case 1: return this[kEmit](event)
    case 2: return this[kEmit](event, a)
    case 3: return this[kEmit](event, a, b)
    default: return this[kEmit](event, ...Array.prototype.slice.call(arguments, 1))
  }
}

function answered (conn: WsConnection): void {
  conn._latency = performance.now() - conn._pingPerf
  conn._pingStamp = 0
  conn._metrics?.answered(conn._latency)
}

/** True when the text message was a JSON heartbeat: answered if a ping, never delivered. */
function consumeJsonHeartbeat (conn: WsConnection, data: Buffer): boolean {
  // Most application messages are larger: they leave before any lookup.
  if (data.length > MAX_HEARTBEAT_BYTES) return false
  const codec = codecFor(conn._config.json)
  const heartbeat = codec.parse(data)
  if (heartbeat === null) return false
  if (heartbeat.isPing) {
    // A peer that floods pings without reading the answers would make the server queue
    // pongs without bound; past this backlog it gets none until it reads.
    if (conn.socket.readyState === 1 && conn.socket.bufferedAmount < MAX_PONG_BACKLOG) conn.socket.send(codec.pong(heartbeat))
  } else if (conn.mode === 'json' && heartbeat.hasStamp && conn._pingStamp !== 0 && heartbeat.stamp === EPOCH + conn._pingStamp) {
    answered(conn)
  }
  return true
}
