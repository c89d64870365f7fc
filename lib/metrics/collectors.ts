import type { Counter, Gauge } from 'prom-client'
import type { Buckets, RouteMetrics } from './route.js'
import type { PromClient } from './options.js'
import type { ClusterMetricsSource } from './types.js'

/** What the gauges read at scrape time: the connection manager's own counts. */
export interface MetricsHost {
  readonly draining: boolean
  /** Live connections of one route. */
  count (route: string): number
}

export type { ClusterMetricsSource } from './types.js'

/** The plugin-wide numbers the collectors read. */
export interface MetricsState {
  readonly routes: ReadonlyMap<string, RouteMetrics>
  readonly rejected: { full: number, draining: number }
  host: MetricsHost | null
}

export interface Collector {
  name: string
  metric: object
}

type Labels = Record<string, string>
type Series = Iterable<readonly [Labels, number]>

function counter (prom: PromClient, name: string, help: string, labelNames: string[], series: () => Series): Collector {
  const metric: Counter = new prom.Counter({
    name,
    help,
    labelNames,
    registers: [],
    // The plugin keeps its own totals (no prom-client call per event); a scrape copies them.
    collect (this: Counter) {
      this.reset()
      for (const [labels, value] of series()) this.inc(labels, value)
    }
  })
  return { name, metric }
}

function gauge (prom: PromClient, name: string, help: string, labelNames: string[], series: () => Series): Collector {
  const metric: Gauge = new prom.Gauge({
    name,
    help,
    labelNames,
    registers: [],
    collect (this: Gauge) {
      this.reset()
      for (const [labels, value] of series()) this.set(labels, value)
    }
  })
  return { name, metric }
}

/**
 * A histogram whose counts are kept per route by `Buckets` and read when scraped. It is a
 * metric object as a prom-client `Registry` reads one (`get()` gives the same shape as a
 * prom-client `Histogram`'s, `metricName` per value), because prom-client's `Histogram`
 * can only be fed one observation at a time.
 */
class ScrapedHistogram {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #series: () => Iterable<readonly [string, Buckets]>

  constructor (name: string, help: string, series: () => Iterable<readonly [string, Buckets]>) {
    this.name = name
    this.help = help
    this.#series = series
  }

  async get (): Promise<{ name: string, help: string, type: string, aggregator: string, values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> }> {
    const bucket = this.name + '_bucket'
    const values = []
    for (const [route, buckets] of this.#series()) {
      const { bounds, counts } = buckets
      let total = 0
      for (let i = 0; i < bounds.length; i++) {
        total += counts[i]
        values.push({ labels: { route, le: bounds[i] }, value: total, metricName: bucket })
      }
      total += counts[bounds.length]
      values.push({ labels: { route, le: '+Inf' }, value: total, metricName: bucket })
      values.push({ labels: { route }, value: buckets.sum, metricName: this.name + '_sum' })
      values.push({ labels: { route }, value: total, metricName: this.name + '_count' })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** `registry.resetMetrics()`: the plugin's totals count from the app's start, like its stats(). */
  reset (): void {}
}

function * perRoute (state: MetricsState, value: (r: RouteMetrics) => number): Series {
  for (const r of state.routes.values()) yield [{ route: r.route }, value(r)]
}

/** The metrics of contract section 8 that every app with `metrics` has. */
export function coreCollectors (prom: PromClient, prefix: string, state: MetricsState): Collector[] {
  const p = prefix
  return [
    gauge(prom, p + 'connections', 'Live websocket connections, by route (URL pattern)', ['route'],
      () => perRoute(state, (r) => state.host?.count(r.route) ?? 0)),
    counter(prom, p + 'connections_accepted_total', 'Websocket connections tracked', ['route'],
      () => perRoute(state, (r) => r.accepted)),
    counter(prom, p + 'connections_rejected_total', 'Websocket upgrades answered 503, by reason (full, draining)', ['reason'],
      () => [[{ reason: 'full' }, state.rejected.full], [{ reason: 'draining' }, state.rejected.draining]]),
    counter(prom, p + 'disconnections_total', 'Websocket connections untracked, by reason (timeout, drain, closed: any other close)', ['route', 'reason'],
      function * () {
        for (const r of state.routes.values()) {
          yield [{ route: r.route, reason: 'timeout' }, r.timedOut]
          yield [{ route: r.route, reason: 'drain' }, r.drained]
          yield [{ route: r.route, reason: 'closed' }, r.closed]
        }
      }),
    counter(prom, p + 'heartbeats_sent_total', 'Heartbeats sent (ping frames or JSON pings)', ['route'],
      () => perRoute(state, (r) => r.heartbeatsSent)),
    counter(prom, p + 'heartbeats_skipped_total', 'Heartbeats not needed: traffic both ways since the last one', ['route'],
      () => perRoute(state, (r) => r.heartbeatsSkipped)),
    counter(prom, p + 'heartbeat_timeouts_total', 'Connections declared dead: no proof of life within timeout of a heartbeat', ['route'],
      () => perRoute(state, (r) => r.timedOut)),
    { name: p + 'heartbeat_rtt_seconds', metric: new ScrapedHistogram(p + 'heartbeat_rtt_seconds', 'Round trip of each answered heartbeat, in seconds', () => routeBuckets(state, 'rttBuckets')) },
    { name: p + 'connection_duration_seconds', metric: new ScrapedHistogram(p + 'connection_duration_seconds', 'Lifetime of each untracked connection, in seconds', () => routeBuckets(state, 'durationBuckets')) },
    counter(prom, p + 'broadcast_skipped_total', 'Sockets skipped or closed by broadcast() for backpressure', ['route'],
      () => perRoute(state, (r) => r.skippedBroadcasts)),
    gauge(prom, p + 'draining', '1 once a drain began, else 0', [],
      () => [[{}, state.host?.draining === true ? 1 : 0]])
  ]
}

function * routeBuckets (state: MetricsState, which: 'rttBuckets' | 'durationBuckets'): Iterable<readonly [string, Buckets]> {
  for (const r of state.routes.values()) yield [r.route, r[which]]
}

/** `ws_cluster_*`, registered by `Metrics.cluster` when the app runs a cluster. */
export function clusterCollectors (prom: PromClient, prefix: string, source: ClusterMetricsSource): Collector[] {
  const p = prefix
  return [
    gauge(prom, p + 'cluster_nodes', 'Live cluster nodes, this one included', [], () => [[{}, source.nodes()]]),
    gauge(prom, p + 'cluster_connections', 'Websocket connections on every live cluster node', [], () => [[{}, source.connections()]]),
    gauge(prom, p + 'cluster_broker_up', '1 while Redis is reachable, else 0', [], () => [[{}, source.brokerUp() ? 1 : 0]]),
    counter(prom, p + 'cluster_publish_errors_total', 'publish() calls that did not reach Redis', [], () => [[{}, source.publishErrors()]])
  ]
}
