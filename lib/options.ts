import { inspect } from 'node:util'
import type { WebsocketPluginOptions } from '@fastify/websocket'
import { FST_ERR_WS_HEARTBEAT_INVALID_OPTION } from './errors.js'
import type { WsConnection } from './connection.js'
import {
  DEFAULT_JSON_NAMES, HEARTBEAT_DEFAULTS, checkDuration, checkJsonOptions, checkKeys, checkLimit, isPlainObject,
  type JsonNames, type OptionProblem
} from './rules/index.js'

export type HeartbeatMode = 'frame' | 'json' | 'off'

export interface JsonHeartbeatOptions {
  /** Name of the field that tells a heartbeat message's kind. Default `'type'`. */
  typeKey?: string
  /** Value of `typeKey` in a ping. Default `'ping'`. */
  ping?: string
  /** Value of `typeKey` in a pong. Default `'pong'`. */
  pong?: string
  /** Name of the field that carries the ping's timestamp, echoed by the pong. Default `'timestamp'`; must differ from `typeKey`. */
  timestampKey?: string
  /** Extra fields for every JSON ping the server sends. */
  payload?: (conn: WsConnection) => Record<string, unknown>
}

export interface RouteHeartbeatOptions {
  /** `'frame'` (default), `'json'` or `'off'`. */
  mode?: HeartbeatMode
  /** ms between two heartbeats. Default 20 000. */
  interval?: number
  /** ms after a heartbeat within which proof of life must arrive. Default 30 000. */
  timeout?: number
  /** ms a closing peer gets to finish the close handshake before it is destroyed. Default 2 000. */
  closeTimeout?: number
  json?: JsonHeartbeatOptions
}

export interface HealthOptions {
  path?: string
}

export interface FastifyWsHeartbeatOptions extends RouteHeartbeatOptions {
  health?: HealthOptions | boolean
  /** Live-connection cap: a positive integer or `Infinity` (default). */
  maxConnections?: number
  /**
   * Bytes: `broadcast()` skips a socket whose `bufferedAmount` is at or over this.
   * A positive integer or `Infinity`. Default 1 048 576.
   */
  maxBackpressure?: number
  /** Close such sockets with 1013 'backpressure limit' instead of skipping them. Default false. */
  closeOnBackpressureLimit?: boolean
  websocket?: WebsocketPluginOptions
}

export interface ResolvedJsonOptions extends JsonNames {
  payload: ((conn: WsConnection) => Record<string, unknown>) | null
}

/** The heartbeat settings of one route, resolved once at route declaration. */
export interface HeartbeatConfig {
  mode: HeartbeatMode
  interval: number
  timeout: number
  closeTimeout: number
  json: ResolvedJsonOptions
}

export interface PluginConfig {
  heartbeat: HeartbeatConfig
  healthPath: string | null
  maxConnections: number
  maxBackpressure: number
  closeOnBackpressureLimit: boolean
}

export const DEFAULTS = Object.freeze({
  mode: 'frame' as HeartbeatMode,
  ...HEARTBEAT_DEFAULTS,
  healthPath: '/health/ws',
  maxConnections: Infinity,
  maxBackpressure: 1_048_576,
  closeOnBackpressureLimit: false
})

export const DEFAULT_JSON: Readonly<ResolvedJsonOptions> = Object.freeze({ ...DEFAULT_JSON_NAMES, payload: null })

const MODES: readonly string[] = ['frame', 'json', 'off']
const ROUTE_KEYS: readonly string[] = ['mode', 'interval', 'timeout', 'closeTimeout', 'json']
const HEALTH_KEYS: readonly string[] = ['path']

/** An option value as error messages show it. */
export function show (value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 5 })
}

function invalid (problem: OptionProblem): Error {
  return new FST_ERR_WS_HEARTBEAT_INVALID_OPTION(problem.name, problem.expected, show(problem.value))
}

function mode (value: unknown, name: string, fallback: HeartbeatMode): HeartbeatMode {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !MODES.includes(value)) throw invalid({ name, expected: "'frame', 'json' or 'off'", value })
  return value as HeartbeatMode
}

/** Merges a `json` option key by key over `base` (validation in lib/rules, shared with the client). */
export function resolveJson (value: unknown, name: string, base: ResolvedJsonOptions): ResolvedJsonOptions {
  if (value === undefined) return base
  const checked = checkJsonOptions(value, name, base, invalid)
  return {
    typeKey: checked.typeKey,
    ping: checked.ping,
    pong: checked.pong,
    timestampKey: checked.timestampKey,
    payload: (checked.payload as ResolvedJsonOptions['payload'] | undefined) ?? base.payload
  }
}

function resolveHeartbeat (value: Record<string, unknown>, prefix: string, base: HeartbeatConfig): HeartbeatConfig {
  return {
    mode: mode(value.mode, `${prefix}mode`, base.mode),
    interval: checkDuration(value.interval, `${prefix}interval`, base.interval, invalid),
    timeout: checkDuration(value.timeout, `${prefix}timeout`, base.timeout, invalid),
    closeTimeout: checkDuration(value.closeTimeout, `${prefix}closeTimeout`, base.closeTimeout, invalid),
    json: resolveJson(value.json, `${prefix}json`, base.json)
  }
}

/** Validates the plugin options. Unknown top-level keys are Fastify's own (`prefix`, …) and ignored. */
export function resolvePluginOptions (opts: unknown): PluginConfig {
  if (opts === undefined || opts === null) opts = {}
  if (!isPlainObject(opts)) throw invalid({ name: 'options', expected: 'an object', value: opts })

  const heartbeat = resolveHeartbeat(opts, '', {
    mode: DEFAULTS.mode,
    interval: DEFAULTS.interval,
    timeout: DEFAULTS.timeout,
    closeTimeout: DEFAULTS.closeTimeout,
    json: DEFAULT_JSON
  })

  let healthPath: string | null = DEFAULTS.healthPath
  const health = opts.health
  if (health === false) {
    healthPath = null
  } else if (health !== undefined && health !== true) {
    if (!isPlainObject(health)) throw invalid({ name: 'health', expected: 'false or an object { path }', value: health })
    checkKeys(health, HEALTH_KEYS, 'health.', invalid)
    if (health.path !== undefined) {
      if (typeof health.path !== 'string' || !health.path.startsWith('/')) {
        throw invalid({ name: 'health.path', expected: "a string starting with '/'", value: health.path })
      }
      healthPath = health.path
    }
  }

  const closeOnBackpressureLimit = opts.closeOnBackpressureLimit ?? DEFAULTS.closeOnBackpressureLimit
  if (typeof closeOnBackpressureLimit !== 'boolean') {
    throw invalid({ name: 'closeOnBackpressureLimit', expected: 'a boolean', value: closeOnBackpressureLimit })
  }

  if (opts.websocket !== undefined && !isPlainObject(opts.websocket)) {
    throw invalid({ name: 'websocket', expected: 'an object of @fastify/websocket options', value: opts.websocket })
  }

  return {
    heartbeat,
    healthPath,
    maxConnections: checkLimit(opts.maxConnections, 'maxConnections', DEFAULTS.maxConnections, invalid),
    maxBackpressure: checkLimit(opts.maxBackpressure, 'maxBackpressure', DEFAULTS.maxBackpressure, invalid),
    closeOnBackpressureLimit
  }
}

/** Resolves a route's `heartbeat` option over the plugin's values. */
export function resolveRouteOptions (value: unknown, base: HeartbeatConfig): HeartbeatConfig {
  if (value === undefined || value === true) return base
  if (value === false) return { ...base, mode: 'off' }
  if (!isPlainObject(value)) throw invalid({ name: 'heartbeat', expected: 'a boolean or an object', value })
  checkKeys(value, ROUTE_KEYS, 'heartbeat.', invalid)
  return resolveHeartbeat(value, 'heartbeat.', base)
}
