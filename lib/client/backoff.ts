import { MAX_TIMER_MS } from '../rules/index.js'

export interface BackoffOptions {
  initialDelay: number
  maxDelay: number
  factor: number
  jitter: number
}

/** What `shouldReconnect` learns beside the close code and reason. */
export interface ReconnectInfo {
  /** The upgrade's HTTP status (Node), given only when it is a 4xx other than 408 and 429. */
  statusCode?: number
}

export type ShouldReconnect = (code: number, reason: string, info: ReconnectInfo) => boolean

export interface ReconnectPolicy extends BackoffOptions {
  maxAttempts: number
  shouldReconnect: ShouldReconnect | undefined
}

// 1008: the server refuses us on policy grounds; trying again cannot help.
const POLICY_VIOLATION = 1008

/**
 * A 4xx answer to the upgrade says the request itself is wrong (a 404 path, a 401
 * credential): the same request will fail again. 408 (the server timed us out) and 429
 * (too many requests, with retry-after) are the two a later retry can fix.
 */
export function isFinalStatus (statusCode: number | undefined): statusCode is number {
  return statusCode !== undefined && statusCode >= 400 && statusCode < 500 && statusCode !== 408 && statusCode !== 429
}

/**
 * ms to wait before the next attempt after a close we did not ask for, or undefined to
 * stop for good. `attempts` counts attempts already made since the last healthy
 * connection; `statusCode` is the upgrade's HTTP status when it was answered with one.
 * A throwing shouldReconnect throws here.
 */
export function reconnectDelay (
  policy: ReconnectPolicy | false,
  attempts: number,
  code: number,
  reason: string,
  retryAfter: number | null,
  statusCode?: number,
  random: () => number = Math.random
): number | undefined {
  if (policy === false || code === POLICY_VIOLATION) return undefined
  if (attempts >= policy.maxAttempts) return undefined
  const final = isFinalStatus(statusCode)
  if (policy.shouldReconnect === undefined) {
    if (final) return undefined
  } else if (!policy.shouldReconnect(code, reason, final ? { statusCode } : {})) {
    return undefined
  }
  // setTimeout fires at once for longer delays (a far-off retry-after date).
  return Math.min(MAX_TIMER_MS, Math.max(backoffDelay(attempts + 1, policy, random), retryAfter ?? 0))
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
  // Date.parse reads "-1" or "1.5" as years; every HTTP date names a month.
  if (!/[a-z]/i.test(text)) return null
  const date = Date.parse(text)
  if (Number.isNaN(date)) return null
  return Math.max(0, date - now)
}
