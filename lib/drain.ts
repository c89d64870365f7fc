import type { ConnectionState } from './connection.js'
import { FST_ERR_WS_HEARTBEAT_INVALID_OPTION } from './errors.js'
import { show } from './options.js'
import { MAX_CLOSE_REASON_BYTES, checkDuration, checkKeys, isPlainObject, isSendableCloseCode, utf8Length, type OptionProblem } from './rules/index.js'

export interface DrainOptions {
  /** ms to wait before the first close frame (let load balancers see the 503 first), 0 to 2 147 483 647. Default 0. */
  delay?: number
  /** ms over which the close frames are spread, so clients do not all reconnect at once, 0 to 2 147 483 647. Default 0. */
  window?: number
  /** Close code: 1000, 1001, 1003, 1007-1014 or 3000-4999. Default 1001 (going away). */
  code?: number
  /** Close reason, at most 123 bytes of UTF-8. Default 'server shutting down'. */
  reason?: string
}

/** What a drain needs from the connections it closes. */
export interface DrainHost {
  /** The live connections now. */
  snapshot (): ConnectionState[]
  /** Sends a close frame; the socket is destroyed if still open closeTimeout ms later. */
  close (state: ConnectionState, code: number, reason: string): void
  /** Resolves once no live connection is left. */
  whenEmpty (): Promise<void>
}

export const DRAIN_DEFAULTS: Readonly<Required<DrainOptions>> = Object.freeze({ delay: 0, window: 0, code: 1001, reason: 'server shutting down' })
const DRAIN_KEYS: readonly string[] = Object.keys(DRAIN_DEFAULTS)

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref())

// Close frames leave in batches at most this far apart: spreading finer costs timers
// and buys clients nothing.
const STEP_MS = 10

function invalid (problem: OptionProblem): Error {
  return new FST_ERR_WS_HEARTBEAT_INVALID_OPTION(problem.name, problem.expected, show(problem.value))
}

/** Throws `FST_ERR_WS_HEARTBEAT_INVALID_OPTION` on invalid drain options, before anything is closed. */
export function validateDrainOptions (opts: unknown): Required<DrainOptions> {
  if (!isPlainObject(opts)) throw invalid({ name: 'drain', expected: 'an object', value: opts })
  checkKeys(opts, DRAIN_KEYS, 'drain.', invalid)
  const { code = DRAIN_DEFAULTS.code, reason = DRAIN_DEFAULTS.reason } = opts
  if (!isSendableCloseCode(code)) {
    throw invalid({ name: 'drain.code', expected: 'a close code an endpoint may send (1000, 1001, 1003, 1007-1014, 3000-4999)', value: code })
  }
  if (typeof reason !== 'string' || utf8Length(reason) > MAX_CLOSE_REASON_BYTES) {
    throw invalid({ name: 'drain.reason', expected: `a string of at most ${MAX_CLOSE_REASON_BYTES} bytes`, value: reason })
  }
  return {
    delay: checkDuration(opts.delay, 'drain.delay', DRAIN_DEFAULTS.delay, invalid, true),
    window: checkDuration(opts.window, 'drain.window', DRAIN_DEFAULTS.window, invalid, true),
    code,
    reason
  }
}

/** After `delay`, a close frame to every connection, spread over `window`; resolves when none is left. */
export async function drainConnections (host: DrainHost, opts: Required<DrainOptions>): Promise<void> {
  const { delay, window, code, reason } = opts
  if (delay > 0) await sleep(delay)
  const states = host.snapshot()
  const start = Date.now()
  for (let i = 0; i < states.length;) {
    const now = Date.now()
    while (i < states.length && start + (window * i) / states.length <= now) {
      host.close(states[i], code, reason)
      i++
    }
    if (i < states.length) await sleep(Math.max(1, Math.min(STEP_MS, start + (window * i) / states.length - now)))
  }
  await host.whenEmpty()
}
