// Browser-safe: no Buffer, no node: imports (the client's ES-module build uses this file).
import { MAX_HEARTBEAT_BYTES, utf8Length } from './limits.js'

/** Field names and values of JSON heartbeats: `{"<typeKey>":"<ping|pong>","<timestampKey>":x}`. */
export interface JsonNames {
  typeKey: string
  ping: string
  pong: string
  timestampKey: string
}

export const DEFAULT_JSON_NAMES: Readonly<JsonNames> = Object.freeze({
  typeKey: 'type',
  ping: 'ping',
  pong: 'pong',
  timestampKey: 'timestamp'
})

export type HeartbeatKind = 'ping' | 'pong'

export interface JsonHeartbeat {
  kind: HeartbeatKind
  /** The timestamp field as received (any JSON value); `undefined` when the message had none. */
  timestamp: unknown
}

/** JSON's white space (RFC 8259): space, tab, line feed, carriage return. */
export function isJsonSpace (code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

/**
 * The rule, applied to a message already parsed: a JSON object whose `typeKey` field is
 * exactly the ping or the pong name is a heartbeat; anything else (arrays, other types,
 * other objects) belongs to the application.
 */
export function heartbeatKind (value: unknown, names: JsonNames): HeartbeatKind | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  const type = (value as Record<string, unknown>)[names.typeKey]
  return type === names.ping ? 'ping' : type === names.pong ? 'pong' : null
}

/** The timestamp field of a parsed heartbeat, `undefined` when absent (JSON has no undefined). */
export function heartbeatTimestamp (value: object, names: JsonNames): unknown {
  return Object.hasOwn(value, names.timestampKey) ? (value as Record<string, unknown>)[names.timestampKey] : undefined
}

/**
 * The heartbeat a text message carries, or null when it belongs to the application:
 * at most MAX_HEARTBEAT_BYTES of UTF-8, white space around a JSON object allowed, any
 * JSON spelling of the names (escapes such as `\u0070ing` included).
 */
export function readHeartbeat (text: string, names: JsonNames): JsonHeartbeat | null {
  // Every UTF-16 unit is at least one UTF-8 byte, so long strings are rejected unmeasured.
  if (text.length > MAX_HEARTBEAT_BYTES) return null
  let i = 0
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++
  if (text.charCodeAt(i) !== 0x7b || utf8Length(text) > MAX_HEARTBEAT_BYTES) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  const kind = heartbeatKind(value, names)
  return kind === null ? null : { kind, timestamp: heartbeatTimestamp(value as object, names) }
}

/**
 * Encodes heartbeats for one set of names, with the constant parts built once:
 * `ping(timestamp, payload?)` puts the heartbeat fields first, and a payload cannot
 * overwrite them; `pong(timestamp)` echoes the ping's timestamp as received, and leaves
 * the field out when the ping had none.
 */
export class JsonCodec {
  readonly names: Readonly<JsonNames>
  readonly #pingPrefix: string
  readonly #pongPlain: string
  readonly #pongPrefix: string

  constructor (names: JsonNames) {
    this.names = Object.freeze({ typeKey: names.typeKey, ping: names.ping, pong: names.pong, timestampKey: names.timestampKey })
    const type = JSON.stringify(names.typeKey)
    const stamp = JSON.stringify(names.timestampKey)
    this.#pingPrefix = `{${type}:${JSON.stringify(names.ping)},${stamp}:`
    this.#pongPlain = `{${type}:${JSON.stringify(names.pong)}}`
    this.#pongPrefix = `{${type}:${JSON.stringify(names.pong)},${stamp}:`
  }

  ping (timestamp: number, payload?: Record<string, unknown>): string {
    if (payload === undefined) return this.#pingPrefix + JSON.stringify(timestamp) + '}'
    const { typeKey, ping, timestampKey } = this.names
    const head = { [typeKey]: ping, [timestampKey]: timestamp }
    return JSON.stringify(Object.assign({}, head, payload, head))
  }

  pong (timestamp: unknown): string {
    // JSON.stringify gives undefined for values JSON cannot carry; such a timestamp cannot
    // have come from a parsed message, and is left out like a missing one.
    const echoed = timestamp === undefined ? undefined : JSON.stringify(timestamp)
    return echoed === undefined ? this.#pongPlain : this.#pongPrefix + echoed + '}'
  }
}

/** `new JsonCodec(names).ping(timestamp, payload)`, for callers that do not keep a codec. */
export function encodePing (names: JsonNames, timestamp: number, payload?: Record<string, unknown>): string {
  return new JsonCodec(names).ping(timestamp, payload)
}

/** `new JsonCodec(names).pong(timestamp)`, for callers that do not keep a codec. */
export function encodePong (names: JsonNames, timestamp: unknown): string {
  return new JsonCodec(names).pong(timestamp)
}
