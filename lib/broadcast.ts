import { WebSocket } from 'ws'
import type { ConnectionState, WsConnection } from './connection.js'

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
 * 1013 under `closeOnBackpressureLimit`. A plain per-socket `send`: each socket frames
 * the message itself. Returns the number of sockets sent to.
 */
export function broadcast (host: BroadcastHost, data: Parameters<WebSocket['send']>[0], opts: BroadcastOptions): number {
  const { route, filter } = opts
  const limit = host.maxBackpressure
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
    socket.send(data)
    sent++
  }
  return sent
}
