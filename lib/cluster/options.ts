import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { FST_ERR_WS_HEARTBEAT_INVALID_OPTION } from '../errors.js'
import type { RedisClient } from './redis.js'

/** The `cluster` plugin option (contract, section 9). */
export interface ClusterOptions {
  /** An ioredis-compatible client; the plugin duplicates it to subscribe, and never closes it. */
  redis: RedisClient
  /** Prefix of the Redis channels. Default `'fastify-ws-heartbeat'`. */
  prefix?: string
  /** This instance's id. Default `${hostname}-${pid}-${random}`. */
  node?: string
  /** ms between two announcements of this node's counts. Default `2_000`. */
  interval?: number
  /** ms after which a node not heard from is dead, and a Redis that does not answer is down; more than `interval`. Default `6_000`. */
  timeout?: number
  /** Cluster-wide soft cap on live connections (positive integer or `Infinity`). Default `Infinity`. */
  maxConnections?: number
}

export interface ClusterConfig {
  redis: RedisClient
  prefix: string
  node: string
  interval: number
  timeout: number
  maxConnections: number
}

export const CLUSTER_DEFAULTS = Object.freeze({
  prefix: 'fastify-ws-heartbeat',
  interval: 2_000,
  timeout: 6_000,
  maxConnections: Infinity
})

const KEYS: readonly string[] = ['redis', 'prefix', 'node', 'interval', 'timeout', 'maxConnections']
const CLIENT_METHODS: readonly string[] = ['publish', 'subscribe', 'duplicate', 'on']
// Node clamps larger setTimeout delays to 1 ms.
const MAX_DURATION = 2 ** 31 - 1
// The node id travels in a one-byte length field of every published message (lib/cluster/codec.ts).
const MAX_NODE_BYTES = 255

function invalid (name: string, expected: string, value: unknown): Error {
  const shown = inspect(value, { depth: 0, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 5 })
  return new FST_ERR_WS_HEARTBEAT_INVALID_OPTION(name, expected, shown)
}

function duration (value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DURATION) {
    throw invalid(name, `a positive finite number of milliseconds up to ${MAX_DURATION}`, value)
  }
  return value
}

function isClient (value: unknown): value is RedisClient {
  if (typeof value !== 'object' || value === null) return false
  const methods = value as Record<string, unknown>
  return CLIENT_METHODS.every((name) => typeof methods[name] === 'function')
}

/** The default node id: unique per process, readable in logs and `nodes()`. */
export function defaultNodeId (): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/**
 * Validates the `cluster` option: `null` when it is absent. Throws
 * `FST_ERR_WS_HEARTBEAT_INVALID_OPTION` naming the option (`cluster.redis`, …).
 */
export function resolveClusterOptions (value: unknown): ClusterConfig | null {
  if (value === undefined) return null
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('cluster', 'an object { redis, prefix?, node?, interval?, timeout?, maxConnections? }', value)
  }
  const opts = value as Record<string, unknown>
  for (const key of Object.keys(opts)) {
    if (!KEYS.includes(key)) throw invalid(`cluster.${key}`, `one of ${KEYS.join(', ')} (unknown key)`, opts[key])
  }
  if (!isClient(opts.redis)) {
    throw invalid('cluster.redis', 'an ioredis-compatible client (with publish, subscribe, duplicate and on)', opts.redis)
  }
  const prefix = opts.prefix ?? CLUSTER_DEFAULTS.prefix
  if (typeof prefix !== 'string' || prefix.length === 0) throw invalid('cluster.prefix', 'a non-empty string', prefix)
  const node = opts.node ?? defaultNodeId()
  if (typeof node !== 'string' || node.length === 0 || Buffer.byteLength(node) > MAX_NODE_BYTES) {
    throw invalid('cluster.node', `a non-empty string of at most ${MAX_NODE_BYTES} bytes`, node)
  }
  const interval = duration(opts.interval, 'cluster.interval', CLUSTER_DEFAULTS.interval)
  const timeout = duration(opts.timeout, 'cluster.timeout', CLUSTER_DEFAULTS.timeout)
  if (timeout <= interval) {
    throw invalid('cluster.timeout', `more than cluster.interval (${interval} ms): a live node must be heard from before it expires`, timeout)
  }
  const max = opts.maxConnections ?? CLUSTER_DEFAULTS.maxConnections
  if (max !== Infinity && !(typeof max === 'number' && Number.isSafeInteger(max) && max > 0)) {
    throw invalid('cluster.maxConnections', 'a positive integer or Infinity', max)
  }
  return { redis: opts.redis, prefix, node, interval, timeout, maxConnections: max as number }
}
