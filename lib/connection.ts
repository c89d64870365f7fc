import type { WebSocket } from 'ws'
import { EPOCH } from './clock.js'
import type { HeartbeatConfig, HeartbeatMode } from './options.js'
import type { ConnectionObserver } from './observer.js'

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
  readonly observer: ConnectionObserver | undefined
  /** `conn.ping()`. */
  probe (state: ConnectionState): Promise<number>
}

/** Tracked and counted. */
export const LIVE = 0
/** Declared dead or closed: no longer counted, the socket may still be closing. */
export const GONE = 1

/** A `conn.ping()` waiting for its answer. */
export interface Probe {
  /** `performance.now()` when its ping left: the answer that carries it resolves this probe. */
  sentAt: number
  resolve (rtt: number): void
  reject (err: Error): void
  timer: ReturnType<typeof setTimeout>
}

/**
 * Everything the plugin keeps about one connection; internal (the public face is
 * `WsConnection`). Times are on the plugin's clock (`clock.ts`), 0 meaning "none".
 */
export class ConnectionState {
  readonly socket: WebSocket
  readonly route: string
  readonly config: HeartbeatConfig
  readonly owner: ConnectionOwner
  readonly seq: number
  readonly view: WsConnection
  /** null for a socket without a TCP socket under it (`app.injectWS`). */
  readonly tcp: TcpCounters | null
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
  /** Deadline to destroy the socket once its close handshake began. */
  killAt = 0
  /** `tcp.bytesRead` when `pingAt` was set: bytes of a frame still arriving prove life. */
  readAtPing = 0
  /**
   * Bytes of earlier writes completed (`bytesWritten - writableLength`) when `pingAt` was
   * set with data queued ahead of the ping, or -1 when nothing was queued.
   */
  writtenAtPing = -1
  /** libuv's `writeQueueSize` at that moment: it shrinks as the kernel takes a large write. */
  queuedAtPing = 0
  /** Round trip in ms of the last answered heartbeat, -1 before the first (always a number: no heap number per pong). */
  latency = -1
  /** `performance.now()` when the oldest unanswered ping left, 0 when none waits. */
  awaiting = 0
  /** Later unanswered pings, oldest first (only when answers come slower than pings). */
  awaitingMore: number[] | null = null
  /** `conn.ping()` calls waiting for their answer. */
  probes: Probe[] | null = null

  constructor (owner: ConnectionOwner, seq: number, socket: WebSocket, route: string, config: HeartbeatConfig, now: number) {
    this.owner = owner
    this.seq = seq
    this.socket = socket
    this.route = route
    this.config = config
    this.connectedAt = now
    this.seen = now
    this.markAt = now
    // `ws` keeps the transport in `_socket`: a net.Socket, or a plain stream for injected sockets.
    const raw = (socket as unknown as { _socket?: Partial<TcpCounters> })._socket
    this.tcp = raw && typeof raw.bytesRead === 'number' && typeof raw.bytesWritten === 'number' ? raw as TcpCounters : null
    this.view = new WsConnection(this)
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
    return this.#state.owner.idPrefix + '-' + this.#state.seq.toString(36)
  }

  /** Round-trip time in ms of the last answered heartbeat, or `null` before the first. */
  get latency (): number | null {
    const latency = this.#state.latency
    return latency < 0 ? null : latency
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
