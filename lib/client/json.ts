export interface JsonNames {
  typeKey: string
  ping: string
  pong: string
  timestampKey: string
}

export interface JsonHeartbeat {
  kind: 'ping' | 'pong'
  /** The timestamp field as received; undefined when the message had none. */
  timestamp: unknown
}

// Same bound as the server: only small text is worth parsing on every message.
export const MAX_HEARTBEAT_BYTES = 1024

export function utf8Length (text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

function isJsonSpace (c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

function looksLikeObject (text: string): boolean {
  let i = 0
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++
  return text.charCodeAt(i) === 0x7b // '{'
}

/** The heartbeat a text message carries, or null when it belongs to the application. */
export function readHeartbeat (text: string, names: JsonNames): JsonHeartbeat | null {
  // Every UTF-16 unit is at least one UTF-8 byte, so long strings are rejected unmeasured.
  if (text.length > MAX_HEARTBEAT_BYTES) return null
  if (!looksLikeObject(text) || utf8Length(text) > MAX_HEARTBEAT_BYTES) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  const record = value as Record<string, unknown>
  const type = record[names.typeKey]
  if (type !== names.ping && type !== names.pong) return null
  return {
    kind: type === names.ping ? 'ping' : 'pong',
    timestamp: Object.hasOwn(record, names.timestampKey) ? record[names.timestampKey] : undefined
  }
}

export function encodePing (names: JsonNames, timestamp: number, payload?: Record<string, unknown>): string {
  const head = { [names.typeKey]: names.ping, [names.timestampKey]: timestamp }
  // Assigned twice so the heartbeat fields come first and a payload cannot overwrite them.
  return JSON.stringify(payload === undefined ? head : Object.assign({}, head, payload, head))
}

export function encodePong (names: JsonNames, timestamp: unknown): string {
  return JSON.stringify(timestamp === undefined
    ? { [names.typeKey]: names.pong }
    : { [names.typeKey]: names.pong, [names.timestampKey]: timestamp })
}
