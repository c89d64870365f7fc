import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import type { WsConnection } from './connection.js'
import { Lifecycle, type LifecycleOptions, type PluginHost } from './lifecycle.js'
import { broadcast, type BroadcastOptions } from './broadcast.js'
import { drainConnections, validateDrainOptions, type DrainOptions } from './drain.js'
import type { HealthHost } from './health.js'
import { WsCluster, isPublishData, type ClusterEngine, type PublishData } from './cluster/index.js'

export type { BroadcastOptions } from './broadcast.js'

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
  /** Live connections, all routes. */
  connections: number
  /** Live connections per route pattern (only routes that have some). */
  routes: Record<string, number>
  /** Connections tracked since the app started. */
  accepted: number
  /** Connections declared dead by their heartbeat. */
  timedOut: number
  draining: boolean
  /** Sockets `broadcast()` skipped (or closed) for being at or over `maxBackpressure`. */
  broadcastSkipped: number
}

/** The internals the plugin's own modules use; never on the public object. */
const internals = new WeakMap<WsConnectionManager, Lifecycle>()

/** @internal The manager's lifecycle, for the plugin entry, health and tests. */
export function internalsOf (manager: WsConnectionManager): PluginHost & HealthHost & { readonly heartbeats: { readonly pending: number, readonly armed: boolean } } {
  return internals.get(manager) as Lifecycle
}

/** `app.wsConnections`: every live websocket connection, its counts and its heartbeats. */
export class WsConnectionManager extends EventEmitter<WsConnectionManagerEvents> {
  /** This node in the cluster (`cluster` option), or `null` without it. */
  readonly cluster: WsCluster | null
  readonly #core: Lifecycle
  readonly #log: FastifyBaseLogger
  readonly #cluster: ClusterEngine | null

  /** @internal Created by the plugin. */
  constructor (log: FastifyBaseLogger, opts: LifecycleOptions, cluster: ClusterEngine | null = null) {
    super()
    this.#log = log
    this.#cluster = cluster
    this.cluster = cluster === null ? null : new WsCluster(cluster)
    this.#core = new Lifecycle(log, opts, {
      // A connection's view is made only for a listener: most applications have none.
      connect: (state) => {
        if (this.listenerCount('connect') > 0) this.#safeEmit('connect', state.view)
      },
      disconnect: (state, code, reason) => {
        if (this.listenerCount('disconnect') > 0) this.#safeEmit('disconnect', state.view, code, reason)
      },
      timeout: (state) => {
        if (this.listenerCount('timeout') > 0) this.#safeEmit('timeout', state.view)
      }
    })
    internals.set(this, this.#core)
  }

  /** Live connections, all routes. */
  get size (): number {
    return this.#core.size
  }

  /** True once a drain has started (or `app.close()` began); it never turns back. */
  get draining (): boolean {
    return this.#core.draining
  }

  /** Live connections of one route (its URL pattern, e.g. `/chat/:room`). */
  count (route: string): number {
    return this.#core.byRoute.get(route)?.size ?? 0
  }

  get (socket: WebSocket): WsConnection | undefined {
    return this.#core.stateOf(socket)?.view
  }

  * [Symbol.iterator] (): IterableIterator<WsConnection> {
    for (const state of this.#core.all()) yield state.view
  }

  /** The live connections of one route (its URL pattern). */
  * connections (route: string): IterableIterator<WsConnection> {
    for (const state of this.#core.states(route)) yield state.view
  }

  /**
   * Sends `data` to every open connection (of `route`, passing `filter`) and returns how
   * many it was sent to. A socket whose `bufferedAmount` is at or over `maxBackpressure`
   * is skipped (counted in `stats().broadcastSkipped`), or closed with 1013
   * 'backpressure limit' under `closeOnBackpressureLimit`.
   */
  broadcast (data: Parameters<WebSocket['send']>[0], opts: BroadcastOptions = {}): number {
    return broadcast(this.#core, data, opts)
  }

  /**
   * `broadcast(data, { route })` on this node at once (backpressure rules included), then
   * on every other node of the cluster through Redis (at most once, in publish order per
   * node). Resolves once Redis accepted the message; rejects when Redis is unreachable or
   * does not answer within `cluster.timeout` (this node's delivery happened anyway).
   * Without `cluster`, resolves after the local delivery. `data`: a string (text) or
   * Buffer/ArrayBuffer/typed array (binary); anything else rejects with a `TypeError`.
   */
  publish (data: PublishData, opts: PublishOptions = {}): Promise<void> {
    if (!isPublishData(data)) return Promise.reject(new TypeError('fastify-ws-heartbeat: publish() data must be a string, a Buffer, an ArrayBuffer or a typed array'))
    const route = opts.route
    broadcast(this.#core, data, { route })
    return this.#cluster === null ? Promise.resolve() : this.#cluster.publish(data, route)
  }

  stats (): WsConnectionStats {
    const core = this.#core
    return {
      connections: core.size,
      routes: core.routeCounts(),
      accepted: core.accepted,
      timedOut: core.timedOut,
      draining: core.draining,
      broadcastSkipped: core.broadcastSkipped
    }
  }

  /**
   * Health turns 503 and upgrades are refused at once; after `delay` ms every connection
   * is sent a close frame, spread over `window` ms; resolves when none is left. Invalid
   * options reject with `FST_ERR_WS_HEARTBEAT_INVALID_OPTION` before anything changes.
   * A second call returns the first drain's promise.
   */
  drain (opts: DrainOptions = {}): Promise<void> {
    let valid: Required<DrainOptions>
    try {
      valid = validateDrainOptions(opts)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#core.startDrain(() => drainConnections(this.#core, valid))
  }

  // A throwing listener is the application's bug; it must not break the heartbeat of
  // every other connection (the scheduler and the socket's close path call in here).
  #safeEmit<K extends keyof WsConnectionManagerEvents> (event: K, ...args: WsConnectionManagerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: WsConnectionManagerEvents[K]) => boolean)(event, ...args)
    } catch (err) {
      this.#log.error({ err, event }, 'fastify-ws-heartbeat: a wsConnections listener threw')
    }
  }
}
