import type { WebSocket } from 'ws'
import { EPOCH } from './clock.js'
import type { HeartbeatConfig, HeartbeatMode } from './options.js'
import type { RouteMetrics } from './metrics/route.js'

/** The byte counter of the TCP socket under a WebSocket; absent for injected (in-memory) sockets. */
export interface ReadCounter {
  readonly bytesRead: number
}

/** Tracked and counted. */
export const LIVE = 0
/** Declared dead or closed: no longer counted, socket may still be closing. */
export const GONE = 1

/**
 * One tracked WebSocket connection. Its times are kept on the plugin's clock (see
 * `clock.ts`) and shown in epoch ms by the getters.
 */
export class WsConnection {
  readonly socket: WebSocket
  /** The route's URL pattern, e.g. `/chat/:room`. */
  readonly route: string
  readonly mode: HeartbeatMode
  /**
   * @internal round-trip time in ms of the last answered heartbeat, -1 before the first:
   * always a number, so V8 keeps the field as a double it updates in place, where a field
   * that may hold `null` gets a fresh heap number (and a write barrier) per pong.
   */
  _latency = -1

  /** @internal id prefix of the manager */
  _idPrefix: string
  /** @internal sequence number within the manager; the id string is built when asked for */
  _seq: number
  /** @internal clock time of the upgrade */
  _connectedAt: number
  /** @internal clock time of the last proof of life */
  _seen: number
  /** @internal */ _config: HeartbeatConfig
  /** @internal */ _state = LIVE
  /** @internal */ _input: ReadCounter | null
  /** @internal next heartbeat due time, 0 when none is scheduled */
  _nextDue = 0
  /** @internal send time of the oldest unanswered heartbeat, 0 when none */
  _pingAt = 0
  /** @internal due time of the verdict on `_pingAt`, 0 when none */
  _verdictAt = 0
  /** @internal bytesRead when `_pingAt` was set */
  _readAtPing = 0
  /** @internal time of the last heartbeat decision, for the skip rule */
  _markAt: number
  /** @internal the application sent data since `_markAt` */
  _sent = false
  /** @internal identifies the last heartbeat (its timestamp) so that only its echo updates latency */
  _pingStamp = 0
  /** @internal performance.now() when the last heartbeat left */
  _pingPerf = 0
  /** @internal deadline to destroy a socket that was sent a close frame, 0 when none */
  _killAt = 0
  /** @internal the counters of this connection's route, when metrics are on */
  _metrics: RouteMetrics | null = null

  constructor (idPrefix: string, seq: number, socket: WebSocket, route: string, config: HeartbeatConfig, now: number) {
    this._idPrefix = idPrefix
    this._seq = seq
    this.socket = socket
    this.route = route
    this.mode = config.mode
    this._connectedAt = now
    this._seen = now
    this._markAt = now
    this._config = config
    // `ws` keeps the net.Socket in `_socket`; an injected socket (injectWS) has no byte counters.
    const raw = (socket as unknown as { _socket?: Partial<ReadCounter> })._socket
    this._input = raw && typeof raw.bytesRead === 'number' ? raw as ReadCounter : null
  }

  /** Unique within the process's connection manager, e.g. `3f9a1c2e-1k`. */
  get id (): string {
    return this._idPrefix + '-' + this._seq.toString(36)
  }

  /** Round-trip time in ms of the last answered heartbeat, or `null` before the first. */
  get latency (): number | null {
    return this._latency < 0 ? null : this._latency
  }

  /** Epoch ms of the upgrade. */
  get connectedAt (): number {
    return EPOCH + this._connectedAt
  }

  /** Epoch ms of the last proof of life: any inbound frame. */
  get lastSeen (): number {
    return EPOCH + this._seen
  }
}
