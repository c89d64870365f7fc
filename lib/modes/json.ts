import type { WsConnection } from '../connection.js'
import type { ResolvedJsonOptions } from '../options.js'

/** Larger text messages are never heartbeats and are not parsed (contract, section 2). */
export const MAX_HEARTBEAT_BYTES = 1024

export interface JsonHeartbeat {
  isPing: boolean
  hasStamp: boolean
  stamp: unknown
}

/** Per-`json`-options precomputed strings, so the message path does no string building. */
class JsonCodec {
  readonly opts: ResolvedJsonOptions
  private readonly pingToken: Buffer
  private readonly pongToken: Buffer
  private readonly pingPrefix: string
  private readonly pongPlain: string
  private readonly pongPrefix: string

  constructor (opts: ResolvedJsonOptions) {
    this.opts = opts
    this.pingToken = Buffer.from(JSON.stringify(opts.ping))
    this.pongToken = Buffer.from(JSON.stringify(opts.pong))
    const type = JSON.stringify(opts.typeKey)
    const stamp = JSON.stringify(opts.timestampKey)
    this.pingPrefix = `{${type}:${JSON.stringify(opts.ping)},${stamp}:`
    this.pongPlain = `{${type}:${JSON.stringify(opts.pong)}}`
    this.pongPrefix = `{${type}:${JSON.stringify(opts.pong)},${stamp}:`
  }

  ping (conn: WsConnection, stamp: number): string {
    if (this.opts.payload === null) return this.pingPrefix + stamp + '}'
    const { typeKey, timestampKey } = this.opts
    // The plugin's own fields come first and cannot be overwritten by the payload.
    return JSON.stringify({
      [typeKey]: this.opts.ping,
      [timestampKey]: stamp,
      ...this.opts.payload(conn),
      [typeKey]: this.opts.ping,
      [timestampKey]: stamp
    })
  }

  pong (message: JsonHeartbeat): string {
    return message.hasStamp ? this.pongPrefix + JSON.stringify(message.stamp) + '}' : this.pongPlain
  }

  /**
   * Recognises a heartbeat in a text message, or returns null. Cheap checks first: size,
   * braces, then the ping/pong value as a JSON string token; only then JSON.parse, so
   * ordinary application messages are almost never parsed here.
   */
  parse (data: Buffer): JsonHeartbeat | null {
    const length = data.length
    if (length < 2 || length > MAX_HEARTBEAT_BYTES) return null
    let start = 0
    while (start < length && isSpace(data[start])) start++
    let end = length - 1
    while (end > start && isSpace(data[end])) end--
    if (data[start] !== 0x7b || data[end] !== 0x7d) return null
    const mayBePing = data.indexOf(this.pingToken) !== -1
    if (!mayBePing && data.indexOf(this.pongToken) === -1) return null
    let value: unknown
    try {
      value = JSON.parse(data.toString('utf8'))
    } catch {
      return null
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
    const obj = value as Record<string, unknown>
    const type = obj[this.opts.typeKey]
    if (type !== this.opts.ping && type !== this.opts.pong) return null
    const hasStamp = Object.prototype.hasOwnProperty.call(obj, this.opts.timestampKey)
    return { isPing: type === this.opts.ping, hasStamp, stamp: hasStamp ? obj[this.opts.timestampKey] : undefined }
  }
}

function isSpace (byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

const codecs = new WeakMap<ResolvedJsonOptions, JsonCodec>()

export function codecFor (opts: ResolvedJsonOptions): JsonCodec {
  let codec = codecs.get(opts)
  if (codec === undefined) {
    codec = new JsonCodec(opts)
    codecs.set(opts, codec)
  }
  return codec
}

export function sendJsonPing (conn: WsConnection, stamp: number): void {
  conn.socket.send(codecFor(conn._config.json).ping(conn, stamp))
}
