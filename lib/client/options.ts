import type { BackoffOptions, ReconnectPolicy, ShouldReconnect } from './backoff.js'
import {
  DEFAULT_JSON_NAMES, HEARTBEAT_DEFAULTS, checkDuration, checkJsonOptions, checkKeys, isPlainObject,
  type JsonNames, type OptionProblem
} from '../rules/index.js'

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
  /**
   * Called before each reconnect: `(code, reason, info)`, return false to stop for good.
   * `info.statusCode` is set (Node) when the upgrade was answered with a 4xx other than
   * 408 and 429, which stops reconnecting unless this returns true.
   */
  shouldReconnect?: ShouldReconnect
}

export interface HeartbeatClientOptions {
  mode?: HeartbeatMode
  /** ms between two heartbeats. Default 20 000. */
  interval?: number
  /** ms after a heartbeat within which proof of life must arrive. Default 30 000. */
  timeout?: number
  /** ms a close handshake may take before the connection is destroyed. Default 2 000. */
  closeTimeout?: number
  /** ms an attempt may take to open before it is abandoned (a failed attempt, code 1006). Default 10 000. */
  connectTimeout?: number
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
  connectTimeout: number
  json: JsonNames
  payload: (() => Record<string, unknown>) | undefined
  reconnect: ResolvedReconnect | false
  queue: number
  WebSocket: WebSocketConstructor
}

export const defaults = {
  mode: 'json',
  ...HEARTBEAT_DEFAULTS,
  connectTimeout: 10_000,
  json: DEFAULT_JSON_NAMES,
  reconnect: { initialDelay: 1_000, maxDelay: 30_000, factor: 2, jitter: 0.5, maxAttempts: Infinity },
  queue: 0
} as const

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

// The shared validators describe a problem; the client reports it as a TypeError.
const problem = ({ name, expected, value }: OptionProblem): TypeError => invalid(name, expected, value)

function duration (name: string, value: unknown, fallback: number, allowZero: boolean): number {
  return checkDuration(value, name, fallback, problem, allowZero)
}

function count (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (value === Infinity || (typeof value === 'number' && Number.isInteger(value) && value >= 0)) return value
  throw invalid(name, 'a non-negative integer or Infinity', value)
}

function resolveJson (value: unknown): Pick<ResolvedOptions, 'json' | 'payload'> {
  const { payload, ...json } = checkJsonOptions(value, 'json', DEFAULT_JSON_NAMES, problem)
  return { json, payload: payload as ResolvedOptions['payload'] }
}

function resolveReconnect (value: unknown): ResolvedReconnect | false {
  if (value === false) return false
  const d = defaults.reconnect
  if (value === undefined || value === true) return { ...d, shouldReconnect: undefined }
  if (!isPlainObject(value)) throw invalid('reconnect', 'an object or a boolean', value)
  checkKeys(value, ['initialDelay', 'maxDelay', 'factor', 'jitter', 'maxAttempts', 'shouldReconnect'], 'reconnect.', problem)
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

const OPTION_KEYS = ['mode', 'interval', 'timeout', 'closeTimeout', 'connectTimeout', 'json', 'reconnect', 'queue', 'WebSocket']

/** The one place options are checked; everything after trusts the resolved values. */
export function resolveOptions (value: unknown, defaultWebSocket: WebSocketConstructor | undefined): ResolvedOptions {
  if (value === undefined) value = {}
  if (!isPlainObject(value)) throw invalid('options', 'an object', value)
  checkKeys(value, OPTION_KEYS, '', problem)
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
    connectTimeout: duration('connectTimeout', value.connectTimeout, defaults.connectTimeout, false),
    ...resolveJson(value.json),
    reconnect: resolveReconnect(value.reconnect),
    queue: count('queue', value.queue, defaults.queue),
    WebSocket: WebSocket as WebSocketConstructor
  }
}
