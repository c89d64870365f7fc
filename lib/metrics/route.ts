import type { RouteObserver, UntrackReason } from '../observer.js'

/**
 * What the heartbeat and message paths touch when metrics are on: plain numbers in one
 * object per route, kept by each of its connections (the `RouteObserver` of
 * `observer.ts`). No label
 * hashing, no allocation, no prom-client call per event; prom-client reads these numbers
 * when it is scraped (see `collectors.ts`).
 */

/** `ws_heartbeat_rtt_seconds` upper bounds, in seconds (contract, section 8). */
export const RTT_BUCKETS: readonly number[] = Object.freeze([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
/** `ws_connection_duration_seconds` upper bounds, in seconds (contract, section 8). */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([1, 10, 60, 300, 1800, 3600, 21600, 86400])

/**
 * Observation counts of one histogram series. `counts[i]` holds the observations in
 * (bounds[i - 1], bounds[i]], `counts[bounds.length]` those above every bound (+Inf);
 * prom-client wants them cumulative, which `collectors.ts` does at scrape time.
 */
export class Buckets {
  // Typed arrays: an observation reads and writes raw doubles (no boxed heap number, no
  // elements-kind check: measured 2-3x faster than a frozen array of bounds), and counts
  // past 2^31 stay exact.
  readonly bounds: Float64Array
  readonly counts: Float64Array
  /** One slot: the sum of the observations. */
  readonly #sum = new Float64Array(1)

  constructor (bounds: readonly number[]) {
    this.bounds = new Float64Array(bounds)
    this.counts = new Float64Array(bounds.length + 1)
  }

  get sum (): number {
    return this.#sum[0]
  }

  get count (): number {
    let n = 0
    for (let i = 0; i < this.counts.length; i++) n += this.counts[i]
    return n
  }

  observe (value: number): void {
    const bounds = this.bounds
    const n = bounds.length
    let i = 0
    while (i < n && value > bounds[i]) i++
    this.counts[i]++
    this.#sum[0] += value
  }
}

/** The counters of one route (its URL pattern): the `route` label of every per-route metric. */
export class RouteMetrics implements RouteObserver {
  readonly route: string
  accepted = 0
  heartbeatsSent = 0
  heartbeatsSkipped = 0
  skippedBroadcasts = 0
  /** Untracked connections by reason; `timeout` is also `ws_heartbeat_timeouts_total`. */
  timedOut = 0
  drained = 0
  closed = 0
  readonly rttBuckets = new Buckets(RTT_BUCKETS)
  readonly durationBuckets = new Buckets(DURATION_BUCKETS)

  constructor (route: string) {
    this.route = route
  }

  connected (): void {
    this.accepted++
  }

  /** A heartbeat (frame or JSON ping) left; not called when its send failed. */
  heartbeatSent (): void {
    this.heartbeatsSent++
  }

  /** A heartbeat was not needed: traffic both ways since the last one. */
  heartbeatSkipped (): void {
    this.heartbeatsSkipped++
  }

  /** A heartbeat was answered after `ms` milliseconds. */
  rtt (ms: number): void {
    this.rttBuckets.observe(ms / 1000)
  }

  /** `broadcast()` skipped (or closed) a socket over `maxBackpressure`. */
  broadcastSkipped (): void {
    this.skippedBroadcasts++
  }

  /** A connection left the counts after living `ms` milliseconds. */
  untracked (reason: UntrackReason, ms: number): void {
    if (reason === 'timeout') this.timedOut++
    else if (reason === 'drain') this.drained++
    else this.closed++
    this.durationBuckets.observe(ms / 1000)
  }
}
