import type { BackoffOptions, ReconnectPolicy } from './backoff.js'
import type { JsonNames } from './json.js'

export type HeartbeatMode = 'frame' | 'json' | 'off'
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Anything constructed like the WHATWG WebSocket: `ws`, a browser's, or a subclass. */
export type WebSocketConstructor = new (url: string) => object

export interface JsonOptions extends Partial<JsonNames> {
  /** Extra fields added to every JSON ping the client sends. */
  payload?: () => Record<string, unknown>
}

export interface ReconnectOptions extends Partial<BackoffOptions> {
  maxAttempts?: number
  shouldReconnect?: (code: number, reason: string) => boolean
}

export interface HeartbeatClientOptions {
  mode?: HeartbeatMode
  interval?: number
  timeout?: number
  closeTimeout?: number
  json?: JsonOptions
  reconnect?: ReconnectOptions | boolean
  queue?: number
  WebSocket?: WebSocketConstructor
}

export type ResolvedReconnect = ReconnectPolicy

export interface ResolvedOptions {
  mode: HeartbeatMode
  interval: number
  timeout: number
  closeTimeout: number
  json: JsonNames
  payload: (() => Record<string, unknown>) | undefined
  reconnect: ResolvedReconnect | false
  queue: number
  WebSocket: WebSocketConstructor
}

export const defaults = {
  mode: 'json',
  interval: 20_000,
  timeout: 30_000,
  closeTimeout: 2_000,
  json: { typeKey: 'type', ping: 'ping', pong: 'pong', timestampKey: 'timestamp' },
  reconnect: { initialDelay: 1_000, maxDelay: 30_000, factor: 2, jitter: 0.5, maxAttempts: Infinity },
  queue: 0
} as const

// setTimeout fires at once (with a warning in Node) for delays above 2^31 - 1 ms.
const MAX_DELAY = 2 ** 31 - 1

function describe (value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || value === undefined || value === null) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function invalid (name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`fastify-ws-heartbeat/client: option '${name}' must be ${expected}, received ${describe(value)}`)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

// Unknown keys throw: a misspelt `intervall` silently meaning "default" is worse than an error.
function checkKeys (name: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw invalid(`${name}${key}`, 'a known option', value[key])
  }
}

function duration (name: string, value: unknown, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && value <= MAX_DELAY && (allowZero ? value >= 0 : value > 0)) return value
  throw invalid(name, `a ${allowZero ? 'non-negative' : 'positive'} number of ms up to ${MAX_DELAY}`, value)
}

function count (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (value === Infinity || (typeof value === 'number' && Number.isInteger(value) && value >= 0)) return value
  throw invalid(name, 'a non-negative integer or Infinity', value)
}

function name (key: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value === 'string' && value.length > 0) return value
  throw invalid(`json.${key}`, 'a non-empty string', value)
}

function resolveJson (value: unknown): Pick<ResolvedOptions, 'json' | 'payload'> {
  if (value === undefined) return { json: { ...defaults.json }, payload: undefined }
  if (!isObject(value)) throw invalid('json', 'an object', value)
  checkKeys('json.', value, ['typeKey', 'ping', 'pong', 'timestampKey', 'payload'])
  const json = {
    typeKey: name('typeKey', value.typeKey, defaults.json.typeKey),
    ping: name('ping', value.ping, defaults.json.ping),
    pong: name('pong', value.pong, defaults.json.pong),
    timestampKey: name('timestampKey', value.timestampKey, defaults.json.timestampKey)
  }
  if (json.ping === json.pong) throw invalid('json.pong', 'different from json.ping', json.pong)
  if (value.payload !== undefined && typeof value.payload !== 'function') throw invalid('json.payload', 'a function', value.payload)
  return { json, payload: value.payload as ResolvedOptions['payload'] }
}

function resolveReconnect (value: unknown): ResolvedReconnect | false {
  if (value === false) return false
  const d = defaults.reconnect
  if (value === undefined || value === true) return { ...d, shouldReconnect: undefined }
  if (!isObject(value)) throw invalid('reconnect', 'an object or a boolean', value)
  checkKeys('reconnect.', value, ['initialDelay', 'maxDelay', 'factor', 'jitter', 'maxAttempts', 'shouldReconnect'])
  const factor = value.factor ?? d.factor
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) throw invalid('reconnect.factor', 'a finite number >= 1', factor)
  const jitter = value.jitter ?? d.jitter
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) throw invalid('reconnect.jitter', 'a number from 0 to 1', jitter)
  if (value.shouldReconnect !== undefined && typeof value.shouldReconnect !== 'function') {
    throw invalid('reconnect.shouldReconnect', 'a function', value.shouldReconnect)
  }
  return {
    initialDelay: duration('reconnect.initialDelay', value.initialDelay, d.initialDelay, true),
    maxDelay: duration('reconnect.maxDelay', value.maxDelay, d.maxDelay, true),
    factor,
    jitter,
    maxAttempts: count('reconnect.maxAttempts', value.maxAttempts, d.maxAttempts),
    shouldReconnect: value.shouldReconnect as ResolvedReconnect['shouldReconnect']
  }
}

/** The one place options are checked; everything after trusts the resolved values. */
export function resolveOptions (value: unknown, defaultWebSocket: WebSocketConstructor | undefined): ResolvedOptions {
  if (value === undefined) value = {}
  if (!isObject(value)) throw invalid('options', 'an object', value)
  checkKeys('', value, ['mode', 'interval', 'timeout', 'closeTimeout', 'json', 'reconnect', 'queue', 'WebSocket'])
  const mode = value.mode ?? defaults.mode
  if (mode !== 'frame' && mode !== 'json' && mode !== 'off') throw invalid('mode', "'frame', 'json' or 'off'", mode)
  const WebSocket = value.WebSocket ?? defaultWebSocket
  if (typeof WebSocket !== 'function') {
    throw invalid('WebSocket', 'a WebSocket constructor (none is built in here)', value.WebSocket)
  }
  if (mode === 'frame' && typeof WebSocket.prototype?.ping !== 'function') {
    throw invalid('mode', "'json' or 'off' with a WebSocket that cannot send pings (frame mode needs `ws`)", mode)
  }
  return {
    mode,
    interval: duration('interval', value.interval, defaults.interval, false),
    timeout: duration('timeout', value.timeout, defaults.timeout, false),
    closeTimeout: duration('closeTimeout', value.closeTimeout, defaults.closeTimeout, false),
    ...resolveJson(value.json),
    reconnect: resolveReconnect(value.reconnect),
    queue: count('queue', value.queue, defaults.queue),
    WebSocket: WebSocket as WebSocketConstructor
  }
}
