import { WebSocket } from 'ws'
import type { ConnectionState, WsConnection } from './connection.js'
import { deliver, prepare } from './fanout.js'

const { OPEN } = WebSocket

export interface BroadcastOptions {
  /** Only the connections of this route (its URL pattern). */
  route?: string
  /** Only the connections for which it returns true. */
  filter?: (conn: WsConnection) => boolean
}

/** What `broadcast()` needs from the manager. */
export interface BroadcastHost {
  readonly maxBackpressure: number
  readonly closeOnBackpressureLimit: boolean
  states (route?: string): Iterable<ConnectionState>
  /** Counts one socket skipped (or closed) for backpressure. */
  skipped (state: ConnectionState): void
  close (state: ConnectionState, code: number, reason: string): void
}

/**
 * Sends `data` to every open connection (of `route`, passing `filter`) whose
 * `bufferedAmount` is under `maxBackpressure`; the others are skipped, or closed with
 * 1013 under `closeOnBackpressureLimit`. The frame is built once for every socket
 * (lib/fanout.ts); a socket where `ws` would write other bytes (permessage-deflate, a busy
 * sender) gets its own `send`. Returns the number of sockets sent to.
 */
export function broadcast (host: BroadcastHost, data: Parameters<WebSocket['send']>[0], opts: BroadcastOptions): number {
  const { route, filter } = opts
  const limit = host.maxBackpressure
  const message = prepare(data)
  let sent = 0
  for (const state of host.states(route)) {
    const socket = state.socket
    if (socket.readyState !== OPEN) continue
    if (filter !== undefined && !filter(state.view)) continue
    // A slow consumer's queue would otherwise grow by every broadcast until memory runs out.
    if (socket.bufferedAmount >= limit) {
      host.skipped(state)
      if (host.closeOnBackpressureLimit) host.close(state, 1013, 'backpressure limit')
      continue
    }
    // Application traffic, as the send wrapper in lib/inbound.ts marks it: the skip rule
    // (traffic both ways replaces a heartbeat) must not depend on which way it was sent.
    state.sent = true
    deliver(socket, message)
    sent++
  }
  return sent
}
