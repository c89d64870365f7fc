import type { ConnectionObserver } from '../observer.js'
import { clusterCollectors, coreCollectors, type ClusterMetricsSource, type Collector, type MetricsHost, type MetricsState } from './collectors.js'
import { invalidMetrics, resolveMetricsOptions, type PromClient, type RequireFn } from './options.js'
import type { MetricsRegistry } from './types.js'
import { RouteMetrics } from './route.js'

export type { MetricsOptions, MetricsRegistry } from './types.js'
export type { ClusterMetricsSource, MetricsHost } from './collectors.js'
export { RouteMetrics } from './route.js'

/**
 * The metrics of one app (contract section 8): the plugin's `ConnectionObserver`. It is
 * asked once per declared route for that route's `RouteMetrics`, which every connection of
 * the route keeps and counts its events on; refused upgrades are counted here. Its collectors live in the registry from creation until
 * `close()` (the app's `onClose`).
 */
export class Metrics implements ConnectionObserver {
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

  /** An upgrade was answered 503 (counted by reason only: `route` is not a label of it). */
  upgradeRejected (_route: string, reason: 'full' | 'draining'): void {
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
