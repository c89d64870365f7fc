/**
 * The seam where a metrics module counts events on the hot paths: the manager calls each
 * method once per event, and only when an observer is set (`undefined` by default, so
 * an app without metrics pays one comparison). Labels are the route's URL pattern, never
 * anything about a peer.
 */
export interface ConnectionObserver {
  /** A heartbeat (or `conn.ping()`) left: a ping frame or a JSON ping. Not called when sending failed. */
  heartbeatSent (route: string): void
  /** A heartbeat was not needed: data moved both ways during the last interval. */
  heartbeatSkipped (route: string): void
  /** An answered heartbeat's round trip, in ms. */
  rtt (route: string, ms: number): void
  /** `broadcast()` skipped (or closed) a socket over `maxBackpressure`. */
  broadcastSkipped (route: string): void
  /** An upgrade was answered 503. */
  upgradeRejected (route: string, reason: 'full' | 'draining'): void
}
