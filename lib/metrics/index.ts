import type { WsConnection } from '../connection.js'
import { clusterCollectors, coreCollectors, type ClusterMetricsSource, type Collector, type MetricsHost, type MetricsState } from './collectors.js'
import { invalidMetrics, resolveMetricsOptions, type PromClient, type RequireFn } from './options.js'
import type { MetricsRegistry } from './types.js'
import { RouteMetrics } from './route.js'

export type { MetricsOptions, MetricsRegistry } from './types.js'
export type { ClusterMetricsSource, MetricsHost } from './collectors.js'
export { RouteMetrics } from './route.js'

/**
 * The metrics of one app (contract section 8). The plugin calls it once per connection
 * (`connected`) and per refused upgrade (`rejected`); every other event is counted on the
 * connection's `RouteMetrics`. Its collectors live in the registry from creation until
 * `close()` (the app's `onClose`).
 */
export class Metrics {
  readonly #prom: PromClient
  readonly #registry: MetricsRegistry
  readonly #prefix: string
  readonly #option: unknown
  readonly #registered: Collector[] = []
  readonly #routes = new Map<string, RouteMetrics>()
  readonly #state: MetricsState

  constructor (prom: PromClient, registry: MetricsRegistry, prefix: string, option: unknown) {
    this.#prom = prom
    this.#registry = registry
    this.#prefix = prefix
    this.#option = option
    this.#state = { routes: this.#routes, rejected: { full: 0, draining: 0 }, host: null }
    this.#register(coreCollectors(prom, prefix, this.#state))
  }

  /** The gauges read `host` when scraped. */
  watch (host: MetricsHost): void {
    this.#state.host = host
  }

  /** The counters of a route, created on first use (at its declaration: its series start at 0). */
  route (url: string): RouteMetrics {
    let r = this.#routes.get(url)
    if (r === undefined) {
      r = new RouteMetrics(url)
      this.#routes.set(url, r)
    }
    return r
  }

  /** A connection is tracked: it gets its route's counters, for every later event. */
  connected (conn: WsConnection): void {
    const r = this.route(conn.route)
    conn._metrics = r
    r.accepted++
  }

  /** An upgrade was answered 503. */
  rejected (reason: 'full' | 'draining'): void {
    this.#state.rejected[reason]++
  }

  /**
   * Registers `ws_cluster_nodes`, `ws_cluster_connections`, `ws_cluster_broker_up` and
   * `ws_cluster_publish_errors_total` (with this app's prefix), read from `source` at each
   * scrape; for the cluster module, once, when it starts. Throws
   * `FST_ERR_WS_HEARTBEAT_INVALID_OPTION` naming `metrics` if a name is already taken.
   */
  cluster (source: ClusterMetricsSource): void {
    this.#register(clusterCollectors(this.#prom, this.#prefix, source))
  }

  /** Removes this app's metrics from the registry (not another app's of the same name). */
  close (): void {
    for (const { name, metric } of this.#registered.splice(0)) {
      if (this.#registry.getSingleMetric(name) === metric) this.#registry.removeSingleMetric(name)
    }
  }

  #register (collectors: Collector[]): void {
    // All names are checked before any is registered: a refused app leaves nothing behind.
    for (const { name } of collectors) {
      if (this.#registry.getSingleMetric(name) !== undefined) {
        throw invalidMetrics('metrics', `a registry and prefix that no other live app uses (${name} is already registered: ` +
          'close the other app first, or set metrics.prefix or metrics.registry)', this.#option)
      }
    }
    for (const c of collectors) {
      this.#registry.registerMetric(c.metric as never)
      this.#registered.push(c)
    }
  }
}

/**
 * Validates the `metrics` plugin option and, when it asks for metrics, loads prom-client
 * and registers the collectors: `null` when metrics are off. Throws
 * `FST_ERR_WS_HEARTBEAT_INVALID_OPTION` naming `metrics` (bad value, prom-client missing,
 * names already registered).
 */
export function createMetrics (option: unknown, requireFn?: RequireFn): Metrics | null {
  const resolved = resolveMetricsOptions(option, requireFn)
  if (resolved === null) return null
  return new Metrics(resolved.prom, resolved.registry, resolved.prefix, option)
}
