export interface ReconnectingInfo {
  /** 1 for the first attempt after a healthy connection (or after the first try). */
  attempt: number
  /** ms until the attempt. */
  delay: number
  /** Close code of the connection that ended (1006 when it never opened). */
  code: number
  reason: string
}

/**
 * An `error` event's argument. `statusCode` (and `retryAfter`, ms or null) are set when the
 * server answered the upgrade with an HTTP status instead of 101 (Node only).
 */
export interface HeartbeatClientError extends Error {
  statusCode?: number
  retryAfter?: number | null
}

export interface HeartbeatClientEvents<Binary> {
  open: () => void
  message: (data: string | Binary) => void
  close: (code: number, reason: string) => void
  timeout: () => void
  reconnecting: (info: ReconnectingInfo) => void
  latency: (ms: number) => void
  error: (err: HeartbeatClientError) => void
}

export type SendData = string | ArrayBuffer | ArrayBufferView | Blob
