import type { WebSocket } from 'ws'
import { EPOCH } from './clock.js'
import type { HeartbeatConfig, HeartbeatMode } from './options.js'
import type { RouteObserver } from './observer.js'

/** The TCP socket under a WebSocket, as far as the heartbeat reads it; absent for injected (in-memory) sockets. */
export interface TcpCounters {
  readonly bytesRead: number
  readonly bytesWritten: number
  readonly writableLength: number
  /** libuv's handle: `writeQueueSize` is what it still holds of a write the kernel did not take yet. */
  readonly _handle?: { readonly writeQueueSize?: number } | null
}

/** What a connection's state needs from the manager that tracks it. */
export interface ConnectionOwner {
  readonly idPrefix: string
  /** `conn.ping()`. */
  probe (state: ConnectionState): Promise<number>
  /** A close handshake began (either side): it gets its `closeTimeout` deadline. */
  closing (state: ConnectionState): void
  /** The socket's 'close' event. */
  closed (state: ConnectionState, code: number, reason: string): void
}

/**
 * What every connection of one route shares, made once when the route is declared: a
 * connection keeps one reference to it instead of one field per item.
 */
export interface TrackedRoute {
  /** The route's URL pattern, e.g. `/chat/:room`. */
  readonly url: string
  readonly config: HeartbeatConfig
  /** The route's metrics observer, when one is set: every event is one call on it. */
  readonly observer: RouteObserver | undefined
  readonly owner: ConnectionOwner
}

/** Tracked and counted. */
export const LIVE = 0
/** Declared dead or closed: no longer counted, the socket may still be closing. */
export const GONE = 1

/** A `conn.ping()` waiting for its answer. */
export interface Probe {
  /** Send time of its ping (`sendStamp()`): the answer that carries it resolves this probe. */
  sentAt: number
  resolve (rtt: number): void
  reject (err: Error): void
  timer: ReturnType<typeof setTimeout>
}

/**
 * The state few connections ever need, allocated on first use: a close handshake under
 * way, data queued ahead of a ping, answers slower than pings, `conn.ping()` calls, an
 * `emit` replaced by another layer. Kept
 * apart because every field of `ConnectionState` is paid by every connection (8 B each
 * on Node's 64-bit builds; BENCHMARKS.md, memory).
 */
export class RareState {
  /** Deadline to destroy the socket once its close handshake began, 0 when none. */
  killAt = 0
  /**
   * Bytes of earlier writes completed (`bytesWritten - writableLength`) when `pingAt` was
   * set with data queued ahead of the ping, or -1 when nothing was queued.
   */
  writtenAtPing = -1
  /** libuv's `writeQueueSize` at that moment: it shrinks as the kernel takes a large write. */
  queuedAtPing = 0
  /** Later unanswered pings (`sendStamp()`), oldest first (only when answers come slower than pings). */
  awaitingMore: number[] | null = null
  /** `conn.ping()` calls waiting for their answer. */
  probes: Probe[] | null = null
  /** Pongs are seen by a listener: another layer replaced the socket's `emit` (`watchPongs` in inbound.ts). */
  pongListener = false
}

/**
 * Everything the plugin keeps about one connection; internal (the public face is
 * `WsConnection`). Times are on the plugin's clock (`clock.ts`), 0 meaning "none". Every
 * field holds a small integer or a reference, never a fractional number: V8 would box
 * such a field in a separate heap number in every connection.
 */
export class ConnectionState {
  readonly socket: WebSocket
  /** What the route's connections share: URL pattern, heartbeat config, observer, owner. */
  readonly tracked: TrackedRoute
  readonly seq: number
  status = LIVE
  connectedAt: number
  /** Last proof of life. */
  seen: number
  /** Last heartbeat decision (sent or skipped), for the rule that traffic both ways replaces a heartbeat. */
  markAt: number
  /** The application sent data since `markAt`. */
  sent = false
  /** Next heartbeat due time. */
  nextDue = 0
  /** Send time of the heartbeat whose verdict is pending (the oldest unanswered one). */
  pingAt = 0
  /** Due time of that verdict in the scheduler, 0 when it is left for the next heartbeat. */
  verdictAt = 0
  /** `tcp.bytesRead` when `pingAt` was set: bytes of a frame still arriving prove life. */
  readAtPing = 0
  /** Round trip in µs of the last answered heartbeat, -1 before the first. */
  latencyUs = -1
  /** Send time (`sendStamp()`) of the oldest unanswered ping, -1 when none waits. */
  awaiting = -1
  /** Allocated on first use (see `RareState`). */
  rare: RareState | null = null
  #view: WsConnection | null = null

  constructor (tracked: TrackedRoute, seq: number, socket: WebSocket, now: number) {
    this.tracked = tracked
    this.seq = seq
    this.socket = socket
    this.connectedAt = now
    this.seen = now
    this.markAt = now
  }

  /**
   * The TCP socket's counters, or null for a socket without a TCP socket under it
   * (`app.injectWS`). Read from the socket each time rather than kept in a field; the
   * check looks for `bytesRead` without calling net.Socket's getter (which calls into libuv).
   */
  get tcp (): TcpCounters | null {
    // `ws` keeps the transport in `_socket`: a net.Socket, or a plain stream for injected sockets.
    const raw = (this.socket as unknown as { _socket?: object | null })._socket
    return raw != null && 'bytesRead' in raw ? raw as TcpCounters : null
  }

  /** The route's URL pattern. */
  get route (): string {
    return this.tracked.url
  }

  get config (): HeartbeatConfig {
    return this.tracked.config
  }

  get observer (): RouteObserver | undefined {
    return this.tracked.observer
  }

  get owner (): ConnectionOwner {
    return this.tracked.owner
  }

  /** The public face, made when first asked for (most connections are never looked at one by one). */
  get view (): WsConnection {
    this.#view ??= new WsConnection(this)
    return this.#view
  }

  /** `WsConnection.id`, without making the view. */
  get id (): string {
    return this.tracked.owner.idPrefix + '-' + this.seq.toString(36)
  }

  /** `rare`, allocated if this connection had none yet. */
  ensureRare (): RareState {
    this.rare ??= new RareState()
    return this.rare
  }
}

/**
 * One tracked WebSocket connection, as `app.wsConnections` shows it: read-only.
 * Times are shown in epoch ms.
 */
export class WsConnection {
  readonly #state: ConnectionState

  /** @internal Connections are created by the plugin. */
  constructor (state: ConnectionState) {
    this.#state = state
  }

  /** The server-side `ws` WebSocket. */
  get socket (): WebSocket {
    return this.#state.socket
  }

  /** The route's URL pattern, e.g. `/chat/:room`. */
  get route (): string {
    return this.#state.route
  }

  /** The route's heartbeat mode. */
  get mode (): HeartbeatMode {
    return this.#state.config.mode
  }

  /** Unique within the process's connection manager, e.g. `3f9a1c2e-1k`. */
  get id (): string {
    return this.#state.id
  }

  /** Round-trip time in ms of the last answered heartbeat, or `null` before the first. */
  get latency (): number | null {
    const us = this.#state.latencyUs
    return us < 0 ? null : us / 1000
  }

  /** Epoch ms of the upgrade. */
  get connectedAt (): number {
    return EPOCH + this.#state.connectedAt
  }

  /** Epoch ms of the last proof of life: any inbound frame. */
  get lastSeen (): number {
    return EPOCH + this.#state.seen
  }

  /**
   * Sends one heartbeat now (a ping frame, or a JSON ping on a `json` route) and resolves
   * with its round trip in ms, also updating `latency`. Rejects when the connection
   * closes first, when sending fails, or when no answer comes within the route's
   * `timeout` (an `off` route's is the plugin's). An unanswered `ping()` never closes the
   * connection by itself.
   */
  ping (): Promise<number> {
    return this.#state.owner.probe(this.#state)
  }
}
