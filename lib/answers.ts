import { EPOCH } from './clock.js'
import type { ConnectionState } from './connection.js'

// A peer can only be this far behind before its verdict drops it; a longer backlog of
// unanswered pings is a peer answering nothing, not a slow one.
const MAX_AWAITING = 32

// Send stamps wrap after 2^21 ms (about 35 minutes) so that they stay small integers
// (V8 Smis, up to 2^31 - 1 on Node's 64-bit builds): a fractional `performance.now()`
// kept in a connection's field costs a separate heap number per connection. Round trips
// are differences of stamps taken modulo the range, exact for any answer that comes
// within 35 minutes of its ping.
const STAMP_MS_RANGE = 2 ** 21
const STAMP_RANGE = STAMP_MS_RANGE * 1000

/**
 * A ping's send time for matching its answer: µs on the monotonic clock, modulo about
 * 35 minutes. `perf` is `performance.now()`; the whole ms are those of the plugin clock
 * (`clockAt(perf)`), which a JSON ping carries.
 */
export function sendStamp (perf: number): number {
  const ms = Math.floor(perf)
  return (ms % STAMP_MS_RANGE) * 1000 + Math.min(999, Math.floor((perf - ms) * 1000))
}

/** µs from `from` to `to`, two `sendStamp`s. */
function elapsedUs (from: number, to: number): number {
  const d = to - from
  return d < 0 ? d + STAMP_RANGE : d
}

/** True when the JSON ping timestamp (epoch ms, `EPOCH + clockAt(perf)`) is the one sent at `stamp`. */
function carries (jsonStamp: number, stamp: number): boolean {
  const ms = jsonStamp - EPOCH - 1
  return Number.isInteger(ms) && ms >= 0 && ms % STAMP_MS_RANGE === Math.floor(stamp / 1000)
}

/**
 * Answers match pings in order (RFC 6455 pongs echo pings in the order received; a JSON
 * pong echoes its ping's timestamp), so `latency` is the round trip of the ping an answer
 * belongs to, also when answers come slower than `interval`. `sentAt` is a `sendStamp`.
 */
export function expectAnswer (state: ConnectionState, sentAt: number): void {
  if (state.awaiting === -1) {
    state.awaiting = sentAt
    return
  }
  const more = state.ensureRare().awaitingMore ??= []
  if (more.length === MAX_AWAITING) more.shift()
  more.push(sentAt)
}

function nextAwaiting (state: ConnectionState): number {
  const more = state.rare?.awaitingMore
  return more === undefined || more === null || more.length === 0 ? -1 : more.shift() as number
}

/**
 * A pong frame: it answers the oldest ping still waiting. `at` is `performance.now()` when
 * the answer was read (the caller's one clock read for the frame).
 */
export function answerOldest (state: ConnectionState, at: number): void {
  const sentAt = state.awaiting
  if (sentAt === -1) return
  state.awaiting = nextAwaiting(state)
  answered(state, sentAt, at)
}

/** A JSON pong echoing `stamp`, read at `at` (`performance.now()`): it answers that ping, and the older ones waiting are given up. */
export function answerStamp (state: ConnectionState, stamp: number, at: number): void {
  if (state.awaiting === -1) return
  if (carries(stamp, state.awaiting)) {
    answerOldest(state, at)
    return
  }
  const more = state.rare?.awaitingMore
  if (more === undefined || more === null) return
  for (let i = 0; i < more.length; i++) {
    if (!carries(stamp, more[i])) continue
    const sentAt = more[i]
    more.splice(0, i + 1)
    state.awaiting = nextAwaiting(state)
    answered(state, sentAt, at)
    return
  }
}

function answered (state: ConnectionState, sentAt: number, at: number): void {
  const us = elapsedUs(sentAt, sendStamp(at))
  state.latencyUs = us
  const rtt = us / 1000
  state.observer?.rtt(rtt)
  const probes = state.rare?.probes
  if (probes === undefined || probes === null) return
  for (let i = 0; i < probes.length; i++) {
    if (probes[i].sentAt !== sentAt) continue
    const probe = probes[i]
    probes.splice(i, 1)
    clearTimeout(probe.timer)
    probe.resolve(rtt)
    return
  }
}

/** Rejects every `conn.ping()` still waiting: the connection is gone. */
export function abandonProbes (state: ConnectionState): void {
  const rare = state.rare
  const probes = rare?.probes
  if (rare === null || probes === undefined || probes === null || probes.length === 0) return
  rare.probes = null
  const err = new Error('fastify-ws-heartbeat: the connection closed before the ping was answered')
  for (const probe of probes) {
    clearTimeout(probe.timer)
    probe.reject(err)
  }
}
