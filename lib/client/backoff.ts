export interface BackoffOptions {
  initialDelay: number
  maxDelay: number
  factor: number
  jitter: number
}

/**
 * Delay before reconnect attempt `attempt` (1-based):
 * `min(maxDelay, initialDelay * factor^(attempt-1)) * (1 - jitter * r)`, r in [0, 1).
 * Jitter is applied after the cap so that a crowd of clients stays spread out
 * even once every one of them has reached `maxDelay`.
 */
export function backoffDelay (attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const capped = Math.min(opts.maxDelay, opts.initialDelay * Math.pow(opts.factor, attempt - 1))
  return Math.round(capped * (1 - opts.jitter * random()))
}

/**
 * `retry-after` as milliseconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3).
 * Returns null for a missing or unreadable header, so that it never shortens a backoff.
 */
export function parseRetryAfter (value: string | undefined | null, now: number = Date.now()): number | null {
  if (value == null) return null
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  if (Number.isNaN(date)) return null
  return Math.max(0, date - now)
}
