import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { GONE, LIVE, WsConnection } from './connection.js'
import { clock } from './clock.js'
import { Heartbeats } from './heartbeat.js'
import { hookSocket } from './inbound.js'
import { drainConnections, validateDrainOptions, type DrainOptions } from './drain.js'
import type { HeartbeatConfig } from './options.js'
import { WsCluster, isPublishData, type ClusterEngine, type PublishData } from './cluster/index.js'

export interface WsConnectionManagerEvents {
  connect: [conn: WsConnection]
  disconnect: [conn: WsConnection, code: number, reason: string]
  timeout: [conn: WsConnection]
  /** Another node of the cluster was heard from for the first time (section 9). */
  nodeUp: [node: string]
  /** Another node of the cluster left, or was not heard from for `cluster.timeout`. */
  nodeDown: [node: string]
}

export interface PublishOptions {
  /** Only the sockets of this route (URL pattern) on every node; every route when absent. */
  route?: string
}

export interface WsConnectionStats {
  connections: number
  routes: Record<string, number>
  accepted: number
  timedOut: number
  draining: boolean
}

export interface BroadcastOptions {
  route?: string
  filter?: (conn: WsConnection) => boolean
}

export type Admission = 'ok' | 'draining' | 'full'

const OPEN = 1
const NO_CONNECTIONS: ReadonlySet<WsConnection> = new Set()
const HEARTBEAT_TIMEOUT = 'heartbeat timeout'

/** `app.wsConnections`: every live websocket connection, its counts and its heartbeats. */
export class WsConnectionManager extends EventEmitter<WsConnectionManagerEvents> {
  private readonly live = new Map<WebSocket, WsConnection>()
  private readonly byRoute = new Map<string, Set<WsConnection>>()
  private readonly log: FastifyBaseLogger
  private readonly idPrefix = randomBytes(4).toString('hex')
  private nextId = 0
  private accepted = 0
  private timedOut = 0
  private countsBody: string | null = null
  private drainPromise: Promise<void> | null = null
  private emptyWaiters: Array<() => void> = []
  /** @internal */ readonly _maxConnections: number
  /** @internal */ readonly _heartbeats: Heartbeats
  /** @internal */ _draining = false
  /** This node in the cluster (`cluster` option), or `null` without it. */
  readonly cluster: WsCluster | null
  readonly #cluster: ClusterEngine | null

  constructor (log: FastifyBaseLogger, maxConnections: number, cluster: ClusterEngine | null = null) {
    super()
    this.log = log
    this._maxConnections = maxConnections
    this.#cluster = cluster
    this.cluster = cluster === null ? null : new WsCluster(cluster)
    this._heartbeats = new Heartbeats({
      dead: (conn) => this.died(conn),
      error: (conn, err) => this.log.error({ err, route: conn.route, id: conn.id }, 'fastify-ws-heartbeat: sending a heartbeat failed'),
      population: () => this.live.size
    })
  }

  /** Live connections, all routes. */
  get size (): number {
    return this.live.size
  }

  /** True once a drain has started (or `app.close()` began); it never turns back. */
  get draining (): boolean {
    return this._draining
  }

  /** Live connections of one route (its URL pattern, e.g. `/chat/:room`). */
  count (route: string): number {
    return this.byRoute.get(route)?.size ?? 0
  }

  get (socket: WebSocket): WsConnection | undefined {
    return this.live.get(socket)
  }

  [Symbol.iterator] (): IterableIterator<WsConnection> {
    return this.live.values()
  }

  connections (route: string): IterableIterator<WsConnection> {
    return (this.byRoute.get(route) ?? NO_CONNECTIONS).values()
  }

  /** Sends `data` to every open connection (of `route`, passing `filter`); returns how many. */
  broadcast (data: Parameters<WebSocket['send']>[0], opts: BroadcastOptions = {}): number {
    const { route, filter } = opts
    const conns = route === undefined ? this.live.values() : this.connections(route)
    let sent = 0
    for (const conn of conns) {
      if (conn.socket.readyState !== OPEN) continue
      if (filter !== undefined && !filter(conn)) continue
      conn.socket.send(data)
      sent++
    }
    return sent
  }

  /**
   * `broadcast(data, { route })` on this node at once, then on every other node of the
   * cluster through Redis (at most once, in publish order per node). Resolves once Redis
   * accepted the message; rejects when Redis is unreachable or does not answer within
   * `cluster.timeout` (this node's delivery happened anyway). Without `cluster`, resolves
   * after the local delivery. `data`: a string (text) or Buffer/ArrayBuffer/typed array (binary).
   */
  publish (data: PublishData, opts: PublishOptions = {}): Promise<void> {
    if (!isPublishData(data)) return Promise.reject(new TypeError('fastify-ws-heartbeat: publish() data must be a string, a Buffer, an ArrayBuffer or a typed array'))
    const route = opts.route
    this.broadcast(data, { route })
    return this.#cluster === null ? Promise.resolve() : this.#cluster.publish(data, route)
  }

  stats (): WsConnectionStats {
    return {
      connections: this.live.size,
      routes: this.routeCounts(),
      accepted: this.accepted,
      timedOut: this.timedOut,
      draining: this._draining
    }
  }

  /**
   * Health turns 503 and upgrades are refused at once; after `delay` every connection is
   * sent a close frame, spread over `window`; resolves when none is left.
   */
  drain (opts: DrainOptions = {}): Promise<void> {
    if (this.drainPromise === null) {
      let valid: Required<DrainOptions>
      try {
        valid = validateDrainOptions(opts)
      } catch (err) {
        return Promise.reject(err)
      }
      this._draining = true
      this.drainPromise = drainConnections(this, valid)
    }
    return this.drainPromise
  }

  /** @internal */
  _admission (): Admission {
    if (this._draining) return 'draining'
    if (this.live.size >= this._maxConnections) return 'full'
    if (this.#cluster?.full() === true) return 'full'
    return 'ok'
  }

  /** @internal The JSON body of the health endpoint, rebuilt only when the counts changed. */
  _healthBody (status: Admission): string {
    if (this.countsBody === null) {
      this.countsBody = `"connections":${this.live.size},"routes":${JSON.stringify(this.routeCounts())}`
    }
    const cluster = this.#cluster === null ? '' : ',' + this.#cluster.healthMember()
    return `{"status":"${status}",${this.countsBody}${cluster}}`
  }

  /** @internal */
  _track (socket: WebSocket, route: string, config: HeartbeatConfig): WsConnection {
    const now = clock()
    const conn = new WsConnection(this.idPrefix, this.nextId++, socket, route, config, now)
    this.live.set(socket, conn)
    let set = this.byRoute.get(route)
    if (set === undefined) {
      set = new Set()
      this.byRoute.set(route, set)
    }
    set.add(conn)
    this.accepted++
    this.countsBody = null
    hookSocket(socket, conn, this)
    this._heartbeats.start(conn, now)
    this.log.debug({ route, id: conn.id }, 'websocket connected')
    this.safeEmit('connect', conn)
    return conn
  }

  /** @internal Sends a close frame and destroys the socket if the handshake is not done in closeTimeout. */
  _close (conn: WsConnection, code: number, reason: string): void {
    const socket = conn.socket
    if (socket.readyState === OPEN) socket.close(code, reason)
    if (socket.readyState !== 3 && conn._killAt === 0) this._heartbeats.deadline(conn, clock())
  }

  /** @internal Resolves once no live connection is left. */
  _whenEmpty (): Promise<void> {
    if (this.live.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.emptyWaiters.push(resolve))
  }

  /** @internal */
  _shutdown (): void {
    this._draining = true
    this._heartbeats.scheduler.stop()
  }

  /** @internal Called by the socket's own 'close' event. */
  closed (conn: WsConnection, code: number, reason: string): void {
    if (conn._state !== LIVE) return
    this.untrack(conn)
    this.log.debug({ route: conn.route, id: conn.id, code }, 'websocket disconnected')
    this.safeEmit('disconnect', conn, code, reason)
  }

  private died (conn: WsConnection): void {
    this.untrack(conn)
    this.timedOut++
    this.log.info({ route: conn.route, id: conn.id }, 'websocket heartbeat timeout')
    this.safeEmit('timeout', conn)
    this.safeEmit('disconnect', conn, 1011, HEARTBEAT_TIMEOUT)
    this._close(conn, 1011, HEARTBEAT_TIMEOUT)
  }

  private untrack (conn: WsConnection): void {
    conn._state = GONE
    this.live.delete(conn.socket)
    const set = this.byRoute.get(conn.route)
    if (set !== undefined) {
      set.delete(conn)
      if (set.size === 0) this.byRoute.delete(conn.route)
    }
    this.countsBody = null
    if (this.live.size === 0 && this.emptyWaiters.length > 0) {
      const waiters = this.emptyWaiters
      this.emptyWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  private routeCounts (): Record<string, number> {
    const routes: Record<string, number> = {}
    for (const [route, set] of this.byRoute) routes[route] = set.size
    return routes
  }

  // A throwing listener is the application's bug; it must not break the heartbeat of
  // every other connection (the scheduler and the socket's close path call in here).
  private safeEmit<K extends keyof WsConnectionManagerEvents> (event: K, ...args: WsConnectionManagerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: WsConnectionManagerEvents[K]) => boolean)(event, ...args)
    } catch (err) {
      this.log.error({ err, event }, 'fastify-ws-heartbeat: a wsConnections listener threw')
    }
  }
}
