/**
 * The seam where a metrics module counts events on the hot paths. The plugin asks the
 * observer once per route, when the route is declared, for that route's `RouteObserver`;
 * every connection of the route keeps it, so an event is one call on a plain object (no
 * label lookup). Without an observer (the default) an event costs one comparison. Labels
 * are the route's URL pattern, never anything about a peer.
 */
export interface ConnectionObserver {
  /** The observer of one route (its URL pattern); called once per declared route. */
  route (route: string): RouteObserver
  /** An upgrade was answered 503. */
  upgradeRejected (route: string, reason: 'full' | 'draining'): void
}

/** Why a connection left the counts. */
export type UntrackReason = 'timeout' | 'drain' | 'closed'

/** The events of one route's connections. */
export interface RouteObserver {
  /** A connection was tracked. */
  connected (): void
  /** A connection left the counts after living `ms` milliseconds. */
  untracked (reason: UntrackReason, ms: number): void
  /** A heartbeat (or `conn.ping()`) left: a ping frame or a JSON ping. Not called when sending failed. */
  heartbeatSent (): void
  /** A heartbeat was not needed: data moved both ways during the last interval. */
  heartbeatSkipped (): void
  /** An answered heartbeat's (or `conn.ping()`'s) round trip, in ms. */
  rtt (ms: number): void
  /** `broadcast()` skipped (or closed) a socket over `maxBackpressure`. */
  broadcastSkipped (): void
}
