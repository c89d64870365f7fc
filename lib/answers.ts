import { EPOCH, clockAt } from './clock.js'
import type { ConnectionState } from './connection.js'

// A peer can only be this far behind before its verdict drops it; a longer backlog of
// unanswered pings is a peer answering nothing, not a slow one.
const MAX_AWAITING = 32

/**
 * Answers match pings in order (RFC 6455 pongs echo pings in the order received; a JSON
 * pong echoes its ping's timestamp), so `latency` is the round trip of the ping an answer
 * belongs to, also when answers come slower than `interval`.
 */
export function expectAnswer (state: ConnectionState, sentAt: number): void {
  if (state.awaiting === 0) {
    state.awaiting = sentAt
    return
  }
  const more = state.awaitingMore ??= []
  if (more.length === MAX_AWAITING) more.shift()
  more.push(sentAt)
}

/**
 * A pong frame: it answers the oldest ping still waiting. `at` is `performance.now()` when
 * the answer was read (the caller's one clock read for the frame).
 */
export function answerOldest (state: ConnectionState, at: number): void {
  const sentAt = state.awaiting
  if (sentAt === 0) return
  const more = state.awaitingMore
  state.awaiting = more === null || more.length === 0 ? 0 : more.shift() as number
  answered(state, sentAt, at)
}

/** A JSON pong echoing `stamp`, read at `at` (`performance.now()`): it answers that ping, and the older ones waiting are given up. */
export function answerStamp (state: ConnectionState, stamp: number, at: number): void {
  if (state.awaiting === 0) return
  if (EPOCH + clockAt(state.awaiting) === stamp) {
    answerOldest(state, at)
    return
  }
  const more = state.awaitingMore
  if (more === null) return
  for (let i = 0; i < more.length; i++) {
    if (EPOCH + clockAt(more[i]) !== stamp) continue
    const sentAt = more[i]
    more.splice(0, i + 1)
    state.awaiting = more.length === 0 ? 0 : more.shift() as number
    answered(state, sentAt, at)
    return
  }
}

function answered (state: ConnectionState, sentAt: number, at: number): void {
  const rtt = at - sentAt
  state.latency = rtt
  state.observer?.rtt(rtt)
  const probes = state.probes
  if (probes === null) return
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
  const probes = state.probes
  if (probes === null || probes.length === 0) return
  state.probes = null
  const err = new Error('fastify-ws-heartbeat: the connection closed before the ping was answered')
  for (const probe of probes) {
    clearTimeout(probe.timer)
    probe.reject(err)
  }
}
