/**
 * Fan-out: one message to many `ws` sockets, framed once.
 *
 * `socket.send()` frames the message again for every socket: an options object, a header
 * buffer and a corked two-chunk write each time. Here the RFC 6455 frame (header and
 * payload in one buffer) is built once per message and the same buffer is handed to each
 * socket's `Sender` as one chunk, the way Socket.IO's adapter pre-encodes a broadcast
 * (engine.io's `wsPreEncodedFrame`). The per-socket cost is then close to the bare
 * `net.Socket.write` of that buffer.
 *
 * A socket takes that path only when `ws` would have written the same bytes at once:
 *
 *   readyState OPEN ──▶ bufferedAmount < maxBackpressure ──▶ server side, no
 *   permessage-deflate, Sender idle (nothing deflating or queued) and not inside a
 *   fragmented message ──▶ Sender.sendFrame([frame])
 *                                                   └── otherwise ──▶ socket.send(data)
 *
 * so ordering against the application's own `socket.send()` calls on the same socket and
 * `bufferedAmount` (the socket's writable length plus the Sender's queued bytes) stay what
 * `ws` makes them. The `ws` internals read here are pinned by test/fanout-internals.test.ts.
 */
import type { WebSocket } from 'ws'

/** What `socket.send()` accepts, as the `ws` types spell it. */
export type FanoutData = Parameters<WebSocket['send']>[0]

export interface FanoutOptions<T> {
  /**
   * Bytes. A socket whose `bufferedAmount` is at or over it is not sent to. A positive
   * integer or `Infinity`; default `Infinity` (the plugin passes its `maxBackpressure`).
   */
  maxBackpressure?: number
  /** Close such a socket with `1013` 'backpressure limit' instead of skipping it. Default `false`. */
  closeOnBackpressureLimit?: boolean
  /** Send as binary (`true`) or text; default: binary unless `data` is a string or a number, as `ws` does. */
  binary?: boolean
  /** Called for each OPEN target that passes `filter`: only those for which it returns `true` are sent to. */
  filter?: (target: T) => boolean
  /** Called for each target skipped (or closed) for backpressure, after the close if any. */
  onSkip?: (target: T) => void
  /** The socket of a target; default: the target is the socket. */
  socketOf?: (target: T) => WebSocket
}

/** The `ws` 8 internals this module reads (see test/fanout-internals.test.ts). */
interface WsInternals {
  _isServer: boolean
  _extensions: Record<string, unknown>
  _sender: SenderInternals | null
}

interface SenderInternals {
  /** 0 (`DEFAULT` in ws/lib/sender.js): not deflating and not reading a Blob. */
  _state: number
  _queue: unknown[]
  /** False while a message sent with `fin: false` is unfinished. */
  _firstFragment: boolean
  sendFrame (list: Buffer[], cb?: (err?: Error) => void): void
}

const OPEN = 1
const SENDER_IDLE = 0
const BACKPRESSURE_CODE = 1013
const BACKPRESSURE_REASON = 'backpressure limit'

/**
 * Sends `data` to every OPEN target (skipping CONNECTING, CLOSING and CLOSED sockets),
 * applying `filter` and the backpressure rule, and returns the number of sockets sent to.
 * `data` is anything `socket.send()` accepts; a `Blob` or an array of chunks goes through
 * `socket.send()` for every socket. Throws only what `socket.send()` or `socket.close()` throw.
 */
export function fanout (targets: Iterable<WebSocket>, data: FanoutData, options?: FanoutOptions<WebSocket>): number
export function fanout<T> (targets: Iterable<T>, data: FanoutData, options: FanoutOptions<T> & { socketOf: (target: T) => WebSocket }): number
export function fanout<T> (targets: Iterable<T>, data: FanoutData, options: FanoutOptions<T> = {}): number {
  const { maxBackpressure = Infinity, closeOnBackpressureLimit = false, filter, onSkip, socketOf } = options
  const message = prepare(data, options.binary)
  let sent = 0
  for (const target of targets) {
    const socket = socketOf === undefined ? target as unknown as WebSocket : socketOf(target)
    if (socket.readyState !== OPEN) continue
    if (filter !== undefined && !filter(target)) continue
    if (socket.bufferedAmount >= maxBackpressure) {
      if (closeOnBackpressureLimit) socket.close(BACKPRESSURE_CODE, BACKPRESSURE_REASON)
      if (onSkip !== undefined) onSkip(target)
      continue
    }
    deliver(socket, message)
    sent++
  }
  return sent
}

/** A message ready for many sockets: its frame (when it can be built ahead), and how `ws` would send it. */
export interface PreparedMessage {
  readonly data: FanoutData
  readonly binary: boolean
  /** `[frame]`, the list `Sender.sendFrame` takes; `null` when every socket must use `send()`. */
  readonly frame: Buffer[] | null
}

/** Builds the unmasked, uncompressed, final frame of `data` once (RFC 6455, section 5.2). */
export function prepare (data: FanoutData, binary?: boolean): PreparedMessage {
  if (typeof data === 'number') data = data.toString()
  const isBinary = binary ?? typeof data !== 'string'
  const payload = payloadOf(data)
  if (payload === null) return { data, binary: isBinary, frame: null }
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(headerLength + length)
  frame[0] = 0x80 | (isBinary ? 0x2 : 0x1) // FIN + opcode
  if (length < 126) {
    frame[1] = length
  } else if (length < 65_536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  if (typeof payload === 'string') frame.write(payload, headerLength, 'utf8')
  else payload.copy(frame, headerLength)
  return { data, binary: isBinary, frame: [frame] }
}

/** Writes a prepared message to one OPEN socket: the shared frame when `ws` allows it, else `send()`. */
export function deliver (socket: WebSocket, message: PreparedMessage): void {
  const sender = message.frame === null ? null : idleSender(socket)
  if (sender === null) socket.send(message.data, { binary: message.binary })
  else sender.sendFrame(message.frame as Buffer[])
}

/**
 * The socket's Sender when a pre-built frame may be written through it now with the same
 * effect as `send()`; `null` otherwise (client side: frames must be masked; deflate: `ws`
 * would compress; busy Sender: the frame would overtake queued messages; mid-fragment: it
 * would interleave with a continuation; an unknown `ws`: fall back).
 */
export function idleSender (socket: WebSocket): SenderInternals | null {
  const ws = socket as unknown as WsInternals
  const sender = ws._sender
  if (
    ws._isServer !== true ||
    sender == null ||
    typeof sender.sendFrame !== 'function' ||
    sender._state !== SENDER_IDLE ||
    sender._firstFragment !== true ||
    sender._queue?.length !== 0 ||
    ws._extensions === undefined ||
    ws._extensions['permessage-deflate'] !== undefined
  ) return null
  return sender
}

/** The payload as a string or a Buffer; `null` for what only `ws` can turn into bytes (Blob, chunk arrays). */
function payloadOf (data: FanoutData): string | Buffer | null {
  if (typeof data === 'string') return data
  if (Buffer.isBuffer(data)) return data
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) return Buffer.from(data)
  return null
}
