import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { WebSocket } from 'ws'
import { ConnectionState, GONE, LIVE, type ConnectionOwner, type WsConnection } from './connection.js'
import { clock, type Clock } from './clock.js'
import { Heartbeats, type HeartbeatHost } from './heartbeat.js'
import { hookInbound } from './inbound.js'
import { abandonProbes } from './answers.js'
import type { ConnectionObserver } from './observer.js'
import type { HeartbeatConfig } from './options.js'
import { DRAIN_DEFAULTS, drainConnections, type DrainHost } from './drain.js'
import type { HealthHost } from './health.js'
import type { BroadcastHost } from './broadcast.js'

const { OPEN, CLOSED } = WebSocket
const HEARTBEAT_TIMEOUT = 'heartbeat timeout'

export type Admission = 'ok' | 'draining' | 'full'

/** What the lifecycle tells the manager's listeners (`connect`, `disconnect`, `timeout`). */
export interface LifecycleEvents {
  connect (conn: WsConnection): void
  disconnect (conn: WsConnection, code: number, reason: string): void
  timeout (conn: WsConnection): void
}

export interface LifecycleOptions {
  maxConnections: number
  maxBackpressure: number
  closeOnBackpressureLimit: boolean
  observer?: ConnectionObserver
  clock?: Clock
}

/** What the plugin entry (index.ts) uses. */
export interface PluginHost {
  readonly observer: ConnectionObserver | undefined
  track (socket: WebSocket, route: string, config: HeartbeatConfig): void
  admission (): Admission
  /** From `app.close()` on, when the app registered @fastify/websocket itself. */
  markDraining (): void
  /** `app.close()`: the default drain when the plugin owns @fastify/websocket. */
  drain (): Promise<void>
  shutdown (): void
}

const kState = Symbol('fastify-ws-heartbeat.lifecycle')
const kClose = Symbol('fastify-ws-heartbeat.close')
interface TrackedSocket extends WebSocket {
  [kState]: ConnectionState
  [kClose]: WebSocket['close']
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
  readonly live = new Map<WebSocket, ConnectionState>()
  readonly byRoute = new Map<string, Set<ConnectionState>>()
  readonly maxBackpressure: number
  readonly closeOnBackpressureLimit: boolean
  accepted = 0
  timedOut = 0
  broadcastSkipped = 0
  draining = false
  readonly #maxConnections: number
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
    this.maxBackpressure = opts.maxBackpressure
    this.closeOnBackpressureLimit = opts.closeOnBackpressureLimit
    this.observer = opts.observer
    this.heartbeats = new Heartbeats(this, opts.clock)
  }

  track (socket: WebSocket, route: string, config: HeartbeatConfig): void {
    const now = clock()
    const state = new ConnectionState(this, this.#nextSeq++, socket, route, config, now)
    this.live.set(socket, state)
    let set = this.byRoute.get(route)
    if (set === undefined) {
      set = new Set()
      this.byRoute.set(route, set)
    }
    set.add(state)
    this.accepted++
    this.#countsJson = null
    const tracked = socket as TrackedSocket
    tracked[kState] = state
    tracked[kClose] = socket.close
    socket.close = hookedClose as WebSocket['close']
    socket.on('close', onSocketClose)
    hookInbound(state)
    this.heartbeats.start(state, now)
    this.#log.debug({ route, id: state.view.id }, 'websocket connected')
    this.#events.connect(state.view)
  }

  /** A close frame from the plugin (death, drain, backpressure), through the socket's own close. */
  close (state: ConnectionState, code: number, reason: string): void {
    const socket = state.socket as TrackedSocket
    if (socket.readyState === OPEN) socket[kClose](code, reason)
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
    this.#log.debug({ route: state.route, id: state.view.id, code }, 'websocket disconnected')
    this.#events.disconnect(state.view, code, reason)
  }

  dead (state: ConnectionState): void {
    this.#untrack(state)
    this.timedOut++
    this.#log.info({ route: state.route, id: state.view.id }, 'websocket heartbeat timeout')
    this.#events.timeout(state.view)
    this.#events.disconnect(state.view, 1011, HEARTBEAT_TIMEOUT)
    this.close(state, 1011, HEARTBEAT_TIMEOUT)
  }

  failed (state: ConnectionState, err: unknown): void {
    this.#log.error({ err, route: state.route, id: state.view.id }, 'fastify-ws-heartbeat: sending a heartbeat failed')
  }

  population (): number {
    return this.live.size
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
      const probes = state.probes ??= []
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
    this.observer?.broadcastSkipped(state.route)
  }

  states (route?: string): Iterable<ConnectionState> {
    if (route === undefined) return this.live.values()
    return this.byRoute.get(route) ?? []
  }

  admission (): Admission {
    if (this.draining) return 'draining'
    if (this.live.size >= this.#maxConnections) return 'full'
    return 'ok'
  }

  /** `"connections":n,"routes":{...}` for the health body, rebuilt only when the counts changed. */
  countsJson (): string {
    if (this.#countsJson === null) this.#countsJson = `"connections":${this.live.size},"routes":${JSON.stringify(this.routeCounts())}`
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

  snapshot (): ConnectionState[] {
    return [...this.live.values()]
  }

  whenEmpty (): Promise<void> {
    if (this.live.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#emptyWaiters.push(resolve))
  }

  shutdown (): void {
    this.draining = true
    this.heartbeats.stop()
  }

  #untrack (state: ConnectionState): void {
    state.status = GONE
    this.live.delete(state.socket)
    const set = this.byRoute.get(state.route)
    if (set !== undefined) {
      set.delete(state)
      if (set.size === 0) this.byRoute.delete(state.route)
    }
    this.#countsJson = null
    abandonProbes(state)
    if (this.live.size === 0 && this.#emptyWaiters.length > 0) {
      const waiters = this.#emptyWaiters
      this.#emptyWaiters = []
      for (const resolve of waiters) resolve()
    }
  }
}

// The application's close() and the peer's close frame both pass here: `ws` answers a
// close frame by calling the socket's own `close`.
function hookedClose (this: TrackedSocket, code?: number, reason?: string | Buffer): void {
  const state = this[kState]
  const close = this[kClose]
  switch (arguments.length) {
    case 0: close.call(this); break
    case 1: close.call(this, code); break
    default: close.call(this, code, reason)
  }
  ;(state.owner as Lifecycle).closing(state)
}

function onSocketClose (this: WebSocket, code: number, reason: Buffer): void {
  const state = (this as TrackedSocket)[kState]
  ;(state.owner as Lifecycle).closed(state, code, reason.toString())
}
