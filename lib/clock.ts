/**
 * The plugin's clock: milliseconds since this module was loaded, from `Date.now()`.
 *
 * Every time kept per connection (last proof of life, due times, the last heartbeat) is
 * on this clock rather than in epoch milliseconds, because small integers are stored
 * inline in an object's fields (V8 Smis: up to 2^31 - 1 on Node's 64-bit builds, about
 * 24 days of uptime) while epoch milliseconds do not fit and cost a separate heap number
 * per field per connection: 9 of them, 144 B per connection, measured with a heap
 * snapshot (BENCHMARKS.md). Past that uptime the values stay correct; V8 just stores them
 * as heap numbers again.
 */
// One ms before load, so that the clock is never 0: 0 stands for "none" in the time fields.
export const EPOCH = Date.now() - 1

export function clock (): number {
  return small(Date.now() - EPOCH)
}

/**
 * An integral number of ms, as a Smi where it fits. Arithmetic on `Date.now()` (a heap
 * number) yields heap numbers in V8's unoptimised tiers even when the result is a small
 * integer, and a heap number stored in a field makes V8 box that field in every
 * connection; `| 0` makes it a Smi, and the range check keeps larger values exact.
 */
export function small (ms: number): number {
  return ms <= 0x7fffffff && ms >= -0x80000000 ? ms | 0 : ms
}
