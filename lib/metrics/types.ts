// The public types of the `metrics` option: no prom-client import here, so that
// TypeScript users without prom-client installed type-check.

/**
 * The part of a prom-client `Registry` the plugin uses (a structural type, so that the
 * plugin's public types do not need prom-client installed).
 */
export interface MetricsRegistry {
  registerMetric (metric: never): void
  getSingleMetric (name: string): unknown
  removeSingleMetric (name: string): void
}

/** `metrics` plugin option as an object. */
export interface MetricsOptions {
  /** A prom-client `Registry`. Default: prom-client's default registry (`register`). */
  registry?: MetricsRegistry
  /** Prefix of every metric name; matches `[a-zA-Z_:][a-zA-Z0-9_:]*`. Default `'ws_'`. */
  prefix?: string
}

/**
 * What a cluster exposes to the `ws_cluster_*` metrics, read at scrape time (see
 * `Metrics.cluster`).
 */
export interface ClusterMetricsSource {
  /** Live nodes, this one included. */
  nodes (): number
  /** Connections on every live node. */
  connections (): number
  /** True while Redis is reachable. */
  brokerUp (): boolean
  /** `publish()` calls that did not reach Redis, since the app started. */
  publishErrors (): number
}
