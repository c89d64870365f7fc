import type { WsConnection } from '../connection.js'

// An empty ping: `ws` writes it as one chunk, where a payload makes it two (header and
// payload, corked into a writev) — measurably more CPU per heartbeat at 10 000
// connections (BENCHMARKS.md). The pong that answers it is the first one after it.
export function sendFramePing (conn: WsConnection): void {
  conn.socket.ping()
}

/** A pong answers the last heartbeat while one is outstanding; RFC 6455 echoes the (empty) payload. */
export function isAnswerToLastPing (conn: WsConnection, data: unknown): boolean {
  return conn._pingStamp !== 0 && Buffer.isBuffer(data) && data.length === 0
}
