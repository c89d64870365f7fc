import type { WsConnection } from '../connection.js'

// The ping payload is the send time in decimal: a pong echoing it answers this very
// heartbeat, while an unsolicited pong (RFC 6455 allows them) still proves life without
// faking a latency.
export function sendFramePing (conn: WsConnection, stamp: number): void {
  conn.socket.ping(String(stamp))
}

/** Compares the pong's payload with the last ping's stamp digit by digit, allocating nothing. */
export function isAnswerToLastPing (conn: WsConnection, data: unknown): boolean {
  const stamp = conn._pingStamp
  if (stamp === 0 || !Buffer.isBuffer(data) || data.length === 0 || data.length > 15) return false
  let value = 0
  for (let i = 0; i < data.length; i++) {
    const digit = data[i] - 0x30
    if (digit < 0 || digit > 9) return false
    value = value * 10 + digit
  }
  return value === stamp
}
