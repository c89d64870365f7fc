import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import type { WsConnection } from './connection.js'
import { Lifecycle, type LifecycleOptions, type PluginHost } from './lifecycle.js'
import { broadcast, type BroadcastOptions } from './broadcast.js'
import { drainConnections, validateDrainOptions, type DrainOptions } from './drain.js'
import type { HealthHost } from './health.js'

export type { BroadcastOptions } from './broadcast.js'

export interface WsConnectionManagerEvents {
  connect: [conn: WsConnection]
  disconnect: [conn: WsConnection, code: number, reason: string]
  timeout: [conn: WsConnection]
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
  readonly #core: Lifecycle
  readonly #log: FastifyBaseLogger

  /** @internal Created by the plugin. */
  constructor (log: FastifyBaseLogger, opts: LifecycleOptions) {
    super()
    this.#log = log
    this.#core = new Lifecycle(log, opts, {
      connect: (conn) => this.#safeEmit('connect', conn),
      disconnect: (conn, code, reason) => this.#safeEmit('disconnect', conn, code, reason),
      timeout: (conn) => this.#safeEmit('timeout', conn)
    })
    internals.set(this, this.#core)
  }

  /** Live connections, all routes. */
  get size (): number {
    return this.#core.live.size
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
    return this.#core.live.get(socket)?.view
  }

  * [Symbol.iterator] (): IterableIterator<WsConnection> {
    for (const state of this.#core.live.values()) yield state.view
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

  stats (): WsConnectionStats {
    const core = this.#core
    return {
      connections: core.live.size,
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
