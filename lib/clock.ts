import { performance } from 'node:perf_hooks'
import type { Clock, Timer } from './rules/clock.js'

/**
 * The plugin's clock: whole milliseconds on the monotonic clock (`performance.now()`),
 * starting at 1 so that 0 can stand for "none" in the time fields.
 *
 * Monotonic, because a step of the wall clock (an NTP correction, a VM resumed) must
 * neither bring verdicts forward (false deaths) nor hold heartbeats back.
 *
 * Small integers, because every time kept per connection (last proof of life, due times,
 * the last heartbeat) is on this clock, and V8 stores small integers inline in an
 * object's fields (Smis: up to 2^31 - 1 on Node's 64-bit builds, about 24 days of process
 * uptime) while epoch milliseconds do not fit and cost a separate heap number per field
 * per connection: 9 of them, 144 B per connection, measured with a heap snapshot
 * (BENCHMARKS.md). Past that uptime the values stay correct; V8 just stores them as heap
 * numbers again.
 */
export function clock (): number {
  return small(Math.floor(performance.now()) + 1)
}

/** The plugin clock's reading at a given `performance.now()` (one read serves both). */
export function clockAt (perf: number): number {
  return small(Math.floor(perf) + 1)
}

/** Epoch ms at clock 0 (the wall clock when this module loaded): `EPOCH + clock()` is epoch ms. */
export const EPOCH = Date.now() - clock()

/**
 * An integral number of ms, as a Smi where it fits. Arithmetic on heap numbers yields
 * heap numbers in V8's unoptimised tiers even when the result is a small integer, and a
 * heap number stored in a field makes V8 box that field in every connection; `| 0`
 * makes it a Smi, and the range check keeps larger values exact.
 */
export function small (ms: number): number {
  return ms <= 0x7fffffff && ms >= -0x80000000 ? ms | 0 : ms
}

// The scheduler's view of time (the plugin clock and a one-shot timer), shared with the client.
export type { Clock, Timer }

export const realClock: Clock = {
  now: clock,
  // Housekeeping timers must not keep the process alive on their own.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer)
}
