import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { WebSocket } from 'ws'
import { ConnectionState, GONE, LIVE, type ConnectionOwner, type TrackedRoute } from './connection.js'
import { clock, type Clock } from './clock.js'
import { Heartbeats, type HeartbeatHost } from './heartbeat.js'
import { closeOwn, hookSocket, socketState } from './inbound.js'
import { abandonProbes } from './answers.js'
import type { ConnectionObserver } from './observer.js'
import type { HeartbeatConfig } from './options.js'
import { DRAIN_DEFAULTS, drainConnections, type DrainHost } from './drain.js'
import type { HealthHost } from './health.js'
import type { BroadcastHost } from './broadcast.js'

const { OPEN, CLOSED } = WebSocket
const HEARTBEAT_TIMEOUT = 'heartbeat timeout'

export type Admission = 'ok' | 'draining' | 'full'

/**
 * What the lifecycle tells the manager's listeners (`connect`, `disconnect`, `timeout`):
 * the view is made only for a listener (`ConnectionState.view`).
 */
export interface LifecycleEvents {
  connect (state: ConnectionState): void
  disconnect (state: ConnectionState, code: number, reason: string): void
  timeout (state: ConnectionState): void
}

export interface LifecycleOptions {
  maxConnections: number
  maxBackpressure: number
  closeOnBackpressureLimit: boolean
  observer?: ConnectionObserver
  /** A cap beyond this node's own (`cluster.maxConnections`): upgrades are refused while it is full. */
  cluster?: { full (): boolean }
  clock?: Clock
}

/** What the plugin entry (index.ts) uses. */
export interface PluginHost {
  readonly observer: ConnectionObserver | undefined
  /** A websocket route was declared: what its connections will share (the observer asked once, here). */
  route (url: string, config: HeartbeatConfig): TrackedRoute
  track (socket: WebSocket, route: TrackedRoute): void
  admission (): Admission
  /** From `app.close()` on, when the app registered @fastify/websocket itself. */
  markDraining (): void
  /** `app.close()`: the default drain when the plugin owns @fastify/websocket. */
  drain (): Promise<void>
  shutdown (): void
}

/**
 * One connection's life, in one place:
 *
 *   track ─ on 'connection', before the route handler: counted, hooks and listeners
 *           installed, heartbeats started
 *   close ─ any close handshake (the peer's close frame, the application's close(), a
 *           heartbeat death, drain, backpressure) gets a deadline: the socket is
 *           destroyed if its TCP connection is still open `closeTimeout` ms later
 *   untrack ─ on the socket's 'close' event, seen by a listener (another layer may wrap
 *           or replace `emit`); a heartbeat death untracks at once
 *
 * Counts are kept up to date here, so health and stats read numbers, never walk.
 */
export class Lifecycle implements ConnectionOwner, HeartbeatHost, PluginHost, DrainHost, HealthHost, BroadcastHost {
  readonly idPrefix = randomBytes(4).toString('hex')
  readonly observer: ConnectionObserver | undefined
  readonly heartbeats: Heartbeats
  /** Live connections, all routes (each is in its route's set of `byRoute`: one set entry per connection, not two). */
  size = 0
  readonly byRoute = new Map<string, Set<ConnectionState>>()
  readonly maxBackpressure: number
  readonly closeOnBackpressureLimit: boolean
  accepted = 0
  timedOut = 0
  broadcastSkipped = 0
  draining = false
  readonly #maxConnections: number
  readonly #cluster: { full (): boolean } | undefined
  readonly #log: FastifyBaseLogger
  readonly #events: LifecycleEvents
  #nextSeq = 0
  #countsJson: string | null = null
  #emptyWaiters: Array<() => void> = []
  #drainPromise: Promise<void> | null = null

  constructor (log: FastifyBaseLogger, opts: LifecycleOptions, events: LifecycleEvents) {
    this.#log = log
    this.#events = events
    this.#maxConnections = opts.maxConnections
    this.#cluster = opts.cluster
    this.maxBackpressure = opts.maxBackpressure
    this.closeOnBackpressureLimit = opts.closeOnBackpressureLimit
    this.observer = opts.observer
    this.heartbeats = new Heartbeats(this, opts.clock)
  }

  route (url: string, config: HeartbeatConfig): TrackedRoute {
    return { url, config, observer: this.observer?.route(url), owner: this }
  }

  track (socket: WebSocket, route: TrackedRoute): void {
    const now = clock()
    const state = new ConnectionState(route, this.#nextSeq++, socket, now)
    this.size++
    let set = this.byRoute.get(route.url)
    if (set === undefined) {
      set = new Set()
      this.byRoute.set(route.url, set)
    }
    set.add(state)
    this.accepted++
    this.#countsJson = null
    hookSocket(state)
    this.heartbeats.start(state, now)
    route.observer?.connected()
    this.#log.debug({ route: route.url, id: state.id }, 'websocket connected')
    this.#events.connect(state)
  }

  /** The live connection of `socket`, if this lifecycle tracks it. */
  stateOf (socket: WebSocket): ConnectionState | undefined {
    const state = socketState(socket)
    return state !== undefined && state.owner === this && state.status === LIVE ? state : undefined
  }

  /** A close frame from the plugin (death, drain, backpressure), through the socket's own close. */
  close (state: ConnectionState, code: number, reason: string): void {
    if (state.socket.readyState === OPEN) closeOwn(state, code, reason)
    this.closing(state)
  }

  /** A close handshake began: it gets closeTimeout ms. */
  closing (state: ConnectionState): void {
    if (state.socket.readyState !== CLOSED) this.heartbeats.deadline(state, clock())
  }

  /** The socket's 'close' event. */
  closed (state: ConnectionState, code: number, reason: string): void {
    if (state.status !== LIVE) return
    this.#untrack(state)
    state.observer?.untracked(this.draining ? 'drain' : 'closed', clock() - state.connectedAt)
    this.#log.debug({ route: state.route, id: state.id, code }, 'websocket disconnected')
    this.#events.disconnect(state, code, reason)
  }

  dead (state: ConnectionState): void {
    this.#untrack(state)
    this.timedOut++
    state.observer?.untracked('timeout', clock() - state.connectedAt)
    this.#log.info({ route: state.route, id: state.id }, 'websocket heartbeat timeout')
    this.#events.timeout(state)
    this.#events.disconnect(state, 1011, HEARTBEAT_TIMEOUT)
    this.close(state, 1011, HEARTBEAT_TIMEOUT)
  }

  failed (state: ConnectionState, err: unknown): void {
    this.#log.error({ err, route: state.route, id: state.id }, 'fastify-ws-heartbeat: sending a heartbeat failed')
  }

  population (): number {
    return this.size
  }

  probe (state: ConnectionState): Promise<number> {
    if (state.status !== LIVE || state.socket.readyState !== OPEN) {
      return Promise.reject(new Error('fastify-ws-heartbeat: the connection is closed'))
    }
    let sentAt: number
    try {
      sentAt = this.heartbeats.sendNow(state)
    } catch (err) {
      return Promise.reject(err)
    }
    const timeout = state.config.timeout
    return new Promise((resolve, reject) => {
      const probes = state.ensureRare().probes ??= []
      const probe = {
        sentAt,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = probes.indexOf(probe)
          if (i !== -1) probes.splice(i, 1)
          reject(new Error(`fastify-ws-heartbeat: no answer within ${timeout} ms`))
        }, timeout).unref()
      }
      probes.push(probe)
    })
  }

  skipped (state: ConnectionState): void {
    this.broadcastSkipped++
    state.observer?.broadcastSkipped()
  }

  states (route?: string): Iterable<ConnectionState> {
    if (route === undefined) return this.all()
    return this.byRoute.get(route) ?? []
  }

  admission (): Admission {
    if (this.draining) return 'draining'
    if (this.size >= this.#maxConnections) return 'full'
    if (this.#cluster?.full() === true) return 'full'
    return 'ok'
  }

  /** `"connections":n,"routes":{...}` for the health body, rebuilt only when the counts changed. */
  countsJson (): string {
    if (this.#countsJson === null) this.#countsJson = `"connections":${this.size},"routes":${JSON.stringify(this.routeCounts())}`
    return this.#countsJson
  }

  routeCounts (): Record<string, number> {
    const routes: Record<string, number> = {}
    for (const [route, set] of this.byRoute) routes[route] = set.size
    return routes
  }

  markDraining (): void {
    this.draining = true
  }

  /** Starts the drain once (validated options); later calls get the same promise. */
  startDrain (run: () => Promise<void>): Promise<void> {
    if (this.#drainPromise === null) {
      this.draining = true
      this.#drainPromise = run()
    }
    return this.#drainPromise
  }

  drain (): Promise<void> {
    return this.startDrain(() => drainConnections(this, DRAIN_DEFAULTS))
  }

  /** Every live connection, route by route. */
  * all (): IterableIterator<ConnectionState> {
    for (const set of this.byRoute.values()) yield * set
  }

  snapshot (): ConnectionState[] {
    return [...this.all()]
  }

  whenEmpty (): Promise<void> {
    if (this.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#emptyWaiters.push(resolve))
  }

  shutdown (): void {
    this.draining = true
    this.heartbeats.stop()
  }

  #untrack (state: ConnectionState): void {
    state.status = GONE
    this.size--
    const set = this.byRoute.get(state.route)
    if (set !== undefined) {
      set.delete(state)
      if (set.size === 0) this.byRoute.delete(state.route)
    }
    this.#countsJson = null
    abandonProbes(state)
    if (this.size === 0 && this.#emptyWaiters.length > 0) {
      const waiters = this.#emptyWaiters
      this.#emptyWaiters = []
      for (const resolve of waiters) resolve()
    }
  }
}
