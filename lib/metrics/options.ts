import { inspect } from 'node:util'
import { FST_ERR_WS_HEARTBEAT_INVALID_OPTION } from '../errors.js'
import type { MetricsRegistry } from './types.js'

export type PromClient = typeof import('prom-client')
export type RequireFn = (id: string) => unknown

export interface ResolvedMetricsOptions {
  registry: MetricsRegistry
  prefix: string
  prom: PromClient
}

export const DEFAULT_PREFIX = 'ws_'
const PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const KEYS: readonly string[] = ['registry', 'prefix']

export function invalidMetrics (name: string, expected: string, value: unknown): Error {
  const shown = inspect(value, { depth: 0, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 5 })
  return new FST_ERR_WS_HEARTBEAT_INVALID_OPTION(name, expected, shown)
}

function isRegistry (value: unknown): value is MetricsRegistry {
  const r = value as Record<string, unknown> | null
  return typeof r === 'object' && r !== null &&
    typeof r.registerMetric === 'function' && typeof r.getSingleMetric === 'function' && typeof r.removeSingleMetric === 'function'
}

/**
 * prom-client is an optional peer dependency: required only here, when `metrics` is set.
 * `requireFn` is Node's `require` of this module; tests pass one rooted where prom-client
 * is not installed.
 */
export function loadPromClient (value: unknown, requireFn: RequireFn = require): PromClient {
  let prom: PromClient
  let version: string
  try {
    prom = requireFn('prom-client') as PromClient
    version = (requireFn('prom-client/package.json') as { version: string }).version
  } catch (err) {
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err
    throw invalidMetrics('metrics', 'prom-client to be installed when metrics is set: run `npm i prom-client` (>= 15)', value)
  }
  if (Number.parseInt(version, 10) < 15) {
    throw invalidMetrics('metrics', `prom-client >= 15 (found ${version}): run \`npm i prom-client@latest\``, value)
  }
  return prom
}

/**
 * Validates the `metrics` option; `null` when metrics are off. prom-client is loaded only
 * once the value asks for metrics.
 */
export function resolveMetricsOptions (value: unknown, requireFn?: RequireFn): ResolvedMetricsOptions | null {
  if (value === undefined || value === false) return null
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw invalidMetrics('metrics', 'true, false or an object { registry?, prefix? }', value)
  }
  let prefix = DEFAULT_PREFIX
  let registry: unknown
  if (value !== true) {
    const obj = value as Record<string, unknown>
    for (const key of Object.keys(obj)) {
      if (!KEYS.includes(key)) throw invalidMetrics(`metrics.${key}`, `one of ${KEYS.join(', ')} (unknown key)`, obj[key])
    }
    if (obj.prefix !== undefined) {
      if (typeof obj.prefix !== 'string' || !PREFIX.test(obj.prefix)) {
        throw invalidMetrics('metrics.prefix', 'a string matching [a-zA-Z_:][a-zA-Z0-9_:]*', obj.prefix)
      }
      prefix = obj.prefix
    }
    registry = obj.registry
    if (registry !== undefined && !isRegistry(registry)) {
      throw invalidMetrics('metrics.registry', 'a prom-client Registry', registry)
    }
  }
  const prom = loadPromClient(value, requireFn)
  return { registry: (registry as MetricsRegistry | undefined) ?? prom.register as unknown as MetricsRegistry, prefix, prom }
}
