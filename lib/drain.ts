import type { WsConnectionManager } from './manager.js'
import { FST_ERR_WS_HEARTBEAT_INVALID_OPTION } from './errors.js'

export interface DrainOptions {
  /** ms to wait before the first close frame (let load balancers see the 503 first). Default 0. */
  delay?: number
  /** ms over which the close frames are spread, so clients do not all reconnect at once. Default 0. */
  window?: number
  /** Close code. Default 1001 (going away). */
  code?: number
  /** Close reason. Default 'server shutting down'. */
  reason?: string
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref())

// Close frames leave in batches at most this far apart: spreading finer costs timers
// and buys clients nothing.
const STEP_MS = 10

function check (ok: boolean, name: string, expected: string, value: unknown): void {
  if (!ok) throw new FST_ERR_WS_HEARTBEAT_INVALID_OPTION(`drain.${name}`, expected, JSON.stringify(value) ?? String(value))
}

/** Throws on invalid drain options before anything is closed. */
export function validateDrainOptions (opts: unknown): Required<DrainOptions> {
  check(typeof opts === 'object' && opts !== null, 'options', 'an object', opts)
  const { delay = 0, window = 0, code = 1001, reason = 'server shutting down' } = opts as DrainOptions
  check(typeof delay === 'number' && Number.isFinite(delay) && delay >= 0, 'delay', 'a finite number of milliseconds >= 0', delay)
  check(typeof window === 'number' && Number.isFinite(window) && window >= 0, 'window', 'a finite number of milliseconds >= 0', window)
  // The codes an endpoint may send in a close frame (RFC 6455 section 7.4).
  check(Number.isInteger(code) && (code === 1000 || code === 1001 || code === 1003 || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)),
    'code', 'a close code an endpoint may send (1000, 1001, 1003, 1007-1014, 3000-4999)', code)
  check(typeof reason === 'string' && Buffer.byteLength(reason) <= 123, 'reason', 'a string of at most 123 bytes', reason)
  return { delay, window, code, reason }
}

export async function drainConnections (manager: WsConnectionManager, opts: Required<DrainOptions>): Promise<void> {
  const { delay, window, code, reason } = opts
  if (delay > 0) await sleep(delay)
  const conns = [...manager]
  const start = Date.now()
  for (let i = 0; i < conns.length;) {
    const now = Date.now()
    while (i < conns.length && start + (window * i) / conns.length <= now) {
      manager._close(conns[i], code, reason)
      i++
    }
    if (i < conns.length) await sleep(Math.max(1, Math.min(STEP_MS, start + (window * i) / conns.length - now)))
  }
  await manager._whenEmpty()
}
