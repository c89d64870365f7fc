import { inspect } from 'node:util'
import type { WebsocketPluginOptions } from '@fastify/websocket'
import { FST_ERR_WS_HEARTBEAT_INVALID_OPTION } from './errors.js'
import type { WsConnection } from './connection.js'
import type { ClusterOptions } from './cluster/options.js'

export type HeartbeatMode = 'frame' | 'json' | 'off'

export interface JsonHeartbeatOptions {
  /** Name of the field that tells a heartbeat message's kind. Default `'type'`. */
  typeKey?: string
  /** Value of `typeKey` in a ping. Default `'ping'`. */
  ping?: string
  /** Value of `typeKey` in a pong. Default `'pong'`. */
  pong?: string
  /** Name of the field that carries the ping's timestamp, echoed by the pong. Default `'timestamp'`. */
  timestampKey?: string
  /** Extra fields for every JSON ping the server sends. */
  payload?: (conn: WsConnection) => Record<string, unknown>
}

export interface RouteHeartbeatOptions {
  mode?: HeartbeatMode
  interval?: number
  timeout?: number
  closeTimeout?: number
  json?: JsonHeartbeatOptions
}

export interface HealthOptions {
  path?: string
}

export interface FastifyWsHeartbeatOptions extends RouteHeartbeatOptions {
  health?: HealthOptions | boolean
  maxConnections?: number
  websocket?: WebsocketPluginOptions
  /** Several instances over Redis (contract, section 9); validated by lib/cluster/options.ts. */
  cluster?: ClusterOptions
}

export interface ResolvedJsonOptions {
  typeKey: string
  ping: string
  pong: string
  timestampKey: string
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
}

export const DEFAULTS = Object.freeze({
  mode: 'frame' as HeartbeatMode,
  interval: 20_000,
  timeout: 30_000,
  closeTimeout: 2_000,
  healthPath: '/health/ws',
  maxConnections: Infinity
})

export const DEFAULT_JSON: Readonly<ResolvedJsonOptions> = Object.freeze({
  typeKey: 'type',
  ping: 'ping',
  pong: 'pong',
  timestampKey: 'timestamp',
  payload: null
})

// Node clamps larger setTimeout delays to 1 ms, which would turn a typo into a ping storm.
const MAX_DURATION = 2 ** 31 - 1
const MODES: readonly string[] = ['frame', 'json', 'off']
const ROUTE_KEYS: readonly string[] = ['mode', 'interval', 'timeout', 'closeTimeout', 'json']
const JSON_KEYS: readonly string[] = ['typeKey', 'ping', 'pong', 'timestampKey', 'payload']
const HEALTH_KEYS: readonly string[] = ['path']

function show (value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 5 })
}

function invalid (name: string, expected: string, value: unknown): Error {
  return new FST_ERR_WS_HEARTBEAT_INVALID_OPTION(name, expected, show(value))
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function rejectUnknownKeys (obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw invalid(`${where}.${key}`, `one of ${allowed.join(', ')} (unknown key)`, obj[key])
    }
  }
}

function duration (value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DURATION) {
    throw invalid(name, `a positive finite number of milliseconds up to ${MAX_DURATION}`, value)
  }
  return value
}

function mode (value: unknown, name: string, fallback: HeartbeatMode): HeartbeatMode {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !MODES.includes(value)) {
    throw invalid(name, "'frame', 'json' or 'off'", value)
  }
  return value as HeartbeatMode
}

function jsonName (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) throw invalid(name, 'a non-empty string', value)
  return value
}

/** Merges a `json` option key by key over `base`. */
export function resolveJson (value: unknown, name: string, base: ResolvedJsonOptions): ResolvedJsonOptions {
  if (value === undefined) return base
  if (!isPlainObject(value)) throw invalid(name, 'an object', value)
  rejectUnknownKeys(value, JSON_KEYS, name)
  const payload = value.payload
  if (payload !== undefined && typeof payload !== 'function') {
    throw invalid(`${name}.payload`, 'a function (conn) => object', payload)
  }
  const resolved: ResolvedJsonOptions = {
    typeKey: jsonName(value.typeKey, `${name}.typeKey`, base.typeKey),
    ping: jsonName(value.ping, `${name}.ping`, base.ping),
    pong: jsonName(value.pong, `${name}.pong`, base.pong),
    timestampKey: jsonName(value.timestampKey, `${name}.timestampKey`, base.timestampKey),
    payload: (payload as ResolvedJsonOptions['payload']) ?? base.payload
  }
  if (resolved.ping === resolved.pong) throw invalid(`${name}.pong`, `a value different from ping ('${resolved.ping}')`, resolved.pong)
  if (resolved.typeKey === resolved.timestampKey) {
    throw invalid(`${name}.timestampKey`, `a key different from typeKey ('${resolved.typeKey}')`, resolved.timestampKey)
  }
  return resolved
}

function resolveHeartbeat (value: Record<string, unknown>, prefix: string, base: HeartbeatConfig): HeartbeatConfig {
  return {
    mode: mode(value.mode, `${prefix}mode`, base.mode),
    interval: duration(value.interval, `${prefix}interval`, base.interval),
    timeout: duration(value.timeout, `${prefix}timeout`, base.timeout),
    closeTimeout: duration(value.closeTimeout, `${prefix}closeTimeout`, base.closeTimeout),
    json: resolveJson(value.json, `${prefix}json`, base.json)
  }
}

/** Validates the plugin options. Unknown top-level keys are Fastify's own (`prefix`, …) and ignored. */
export function resolvePluginOptions (opts: unknown): PluginConfig {
  if (opts === undefined || opts === null) opts = {}
  if (!isPlainObject(opts)) throw invalid('options', 'an object', opts)

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
    if (!isPlainObject(health)) throw invalid('health', 'false or an object { path }', health)
    rejectUnknownKeys(health, HEALTH_KEYS, 'health')
    if (health.path !== undefined) {
      if (typeof health.path !== 'string' || !health.path.startsWith('/')) {
        throw invalid('health.path', "a string starting with '/'", health.path)
      }
      healthPath = health.path
    }
  }

  const max = opts.maxConnections ?? DEFAULTS.maxConnections
  if (max !== Infinity && !(typeof max === 'number' && Number.isSafeInteger(max) && max > 0)) {
    throw invalid('maxConnections', 'a positive integer or Infinity', max)
  }

  if (opts.websocket !== undefined && !isPlainObject(opts.websocket)) {
    throw invalid('websocket', 'an object of @fastify/websocket options', opts.websocket)
  }

  return { heartbeat, healthPath, maxConnections: max as number }
}

/** Resolves a route's `heartbeat` option over the plugin's values. */
export function resolveRouteOptions (value: unknown, base: HeartbeatConfig): HeartbeatConfig {
  if (value === undefined || value === true) return base
  if (value === false) return { ...base, mode: 'off' }
  if (!isPlainObject(value)) throw invalid('heartbeat', 'a boolean or an object', value)
  rejectUnknownKeys(value, ROUTE_KEYS, 'heartbeat')
  return resolveHeartbeat(value, 'heartbeat.', base)
}
