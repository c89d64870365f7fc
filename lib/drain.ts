import type { WsConnectionManager } from './manager.js'

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

export async function drainConnections (manager: WsConnectionManager, opts: DrainOptions): Promise<void> {
  const { delay = 0, window = 0, code = 1001, reason = 'server shutting down' } = opts
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
