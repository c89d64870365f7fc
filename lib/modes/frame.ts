import type { WsConnection } from '../connection.js'

// The ping payload is the send time: a pong echoing it answers this very heartbeat, while
// an unsolicited pong (RFC 6455 allows them) still proves life without faking a latency.
export function sendFramePing (conn: WsConnection, stamp: number): void {
  conn.socket.ping(String(stamp))
}

export function isAnswerToLastPing (conn: WsConnection, data: unknown): boolean {
  return conn._pingStamp !== 0 && Buffer.isBuffer(data) && data.toString('latin1') === String(conn._pingStamp)
}
