import type { WebSocket } from 'ws'
import type { HeartbeatConfig, HeartbeatMode } from './options.js'

/** The byte counter of the TCP socket under a WebSocket; absent for injected (in-memory) sockets. */
export interface ReadCounter {
  readonly bytesRead: number
}

/** Tracked and counted. */
export const LIVE = 0
/** Declared dead or closed: no longer counted, socket may still be closing. */
export const GONE = 1

/** One tracked WebSocket connection. */
export class WsConnection {
  readonly id: string
  readonly socket: WebSocket
  /** The route's URL pattern, e.g. `/chat/:room`. */
  readonly route: string
  readonly mode: HeartbeatMode
  /** Epoch ms of the upgrade. */
  readonly connectedAt: number
  /** Epoch ms of the last proof of life: any inbound frame. */
  lastSeen: number
  /** Round-trip time in ms of the last answered heartbeat, or `null` before the first. */
  latency: number | null = null

  /** @internal */ _config: HeartbeatConfig
  /** @internal */ _state = LIVE
  /** @internal */ _input: ReadCounter | null
  /** @internal next heartbeat due time (epoch ms), 0 when none is scheduled */
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

  constructor (id: string, socket: WebSocket, route: string, config: HeartbeatConfig, now: number) {
    this.id = id
    this.socket = socket
    this.route = route
    this.mode = config.mode
    this.connectedAt = now
    this.lastSeen = now
    this._markAt = now
    this._config = config
    // `ws` keeps the net.Socket in `_socket`; an injected socket (injectWS) has no byte counters.
    const raw = (socket as unknown as { _socket?: Partial<ReadCounter> })._socket
    this._input = raw && typeof raw.bytesRead === 'number' ? raw as ReadCounter : null
  }
}
