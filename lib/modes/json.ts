import type { ConnectionState } from '../connection.js'
import type { ResolvedJsonOptions } from '../options.js'
import { JsonCodec, MAX_HEARTBEAT_BYTES, heartbeatKind, heartbeatTimestamp, isJsonSpace } from '../rules/index.js'

export const NOT_HEARTBEAT = 0
export const PING = 1
export const PONG = 2

const BACKSLASH = 0x5c

/**
 * The server's side of the JSON rules (lib/rules) on the message path: the rules'
 * encoder, plus a byte pre-filter so that ordinary application messages are almost
 * never parsed here.
 */
class ServerJsonCodec {
  readonly opts: ResolvedJsonOptions
  readonly encoder: JsonCodec
  /** The timestamp of the last heartbeat `read` recognised (undefined: it had none). */
  stamp: unknown = undefined
  private readonly pingToken: Buffer
  private readonly pongToken: Buffer

  constructor (opts: ResolvedJsonOptions) {
    this.opts = opts
    this.encoder = new JsonCodec(opts)
    this.pingToken = Buffer.from(JSON.stringify(opts.ping))
    this.pongToken = Buffer.from(JSON.stringify(opts.pong))
  }

  /**
   * PING, PONG or NOT_HEARTBEAT for a text message; `stamp` holds the timestamp (no
   * object per message). Cheap checks first: size, braces, then the ping or pong name as
   * a JSON string token. A message with a backslash may spell the names with escapes
   * (`"\u0070ing"`), so it is parsed all the same: the rules decide, not the spelling.
   */
  read (data: Buffer): number {
    const length = data.length
    if (length < 2 || length > MAX_HEARTBEAT_BYTES) return NOT_HEARTBEAT
    let start = 0
    while (start < length && isJsonSpace(data[start])) start++
    let end = length - 1
    while (end > start && isJsonSpace(data[end])) end--
    if (data[start] !== 0x7b || data[end] !== 0x7d) return NOT_HEARTBEAT
    if (data.indexOf(this.pingToken) === -1 && data.indexOf(this.pongToken) === -1 && data.indexOf(BACKSLASH) === -1) return NOT_HEARTBEAT
    let value: unknown
    try {
      value = JSON.parse(data.toString('utf8'))
    } catch {
      return NOT_HEARTBEAT
    }
    const kind = heartbeatKind(value, this.opts)
    if (kind === null) return NOT_HEARTBEAT
    this.stamp = heartbeatTimestamp(value as object, this.opts)
    return kind === 'ping' ? PING : PONG
  }

  ping (state: ConnectionState, stamp: number): string {
    const payload = this.opts.payload
    return payload === null ? this.encoder.ping(stamp) : this.encoder.ping(stamp, payload(state.view))
  }
}

const codecs = new WeakMap<ResolvedJsonOptions, ServerJsonCodec>()

export function codecFor (opts: ResolvedJsonOptions): ServerJsonCodec {
  let codec = codecs.get(opts)
  if (codec === undefined) {
    codec = new ServerJsonCodec(opts)
    codecs.set(opts, codec)
  }
  return codec
}
