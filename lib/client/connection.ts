import type { Keepalive } from './keepalive.js'
import { Progress } from './progress.js'
import type { Timer } from './timers.js'
import type { Transport } from './transport.js'

/** One socket's worth of client state; a reconnect starts a new one. */
export interface Connection {
  transport: Transport | undefined
  opened: boolean
  keepalive: Keepalive | undefined
  healthyTimer: Timer | undefined
  /** Abandons the attempt if it is not open after connectTimeout. */
  connectTimer: Timer | undefined
  /** Destroys the connection closeTimeout after the server's close frame, if TCP is still open. */
  closingTimer: Timer | undefined
  progress: Progress
  /** The upgrade's HTTP status when the server answered with one instead of 101. */
  statusCode: number | undefined
  /** ms the server asked us to stay away (503/429 with retry-after). */
  retryAfter: number | null
  /** Timestamp (JSON) or payload (frame) of the last ping, to match its pong. */
  lastPing: unknown
  pingSentAt: number
  /** Set by close(): the next close event finishes a close we asked for. */
  onClosed: ((code: number, reason: string) => void) | undefined
}

export function newConnection (): Connection {
  return {
    transport: undefined,
    opened: false,
    keepalive: undefined,
    healthyTimer: undefined,
    connectTimer: undefined,
    closingTimer: undefined,
    progress: new Progress(),
    statusCode: undefined,
    retryAfter: null,
    lastPing: undefined,
    pingSentAt: 0,
    onClosed: undefined
  }
}
