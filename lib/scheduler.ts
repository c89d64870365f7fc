import { realClock, small, type Clock, type Timer } from './clock.js'

/**
 * One timer for every connection: entries are grouped by their exact due time (ms on the plugin's clock)
 * in buckets, and the timer is armed for the earliest bucket only. Heartbeats of one
 * interval fall on a shared grid (see `gridTime`), so a few hundred distinct due times
 * serve any number of connections; each round costs O(1) per connection plus O(log n)
 * per bucket. Entries are never removed: a visit checks whether the entry is still
 * current (lazy deletion), which keeps add O(1) and needs no per-entry bookkeeping.
 */
export class Scheduler<T> {
  private readonly buckets = new Map<number, T[]>()
  // Most additions of a tick go to the same due time (the next slot, the verdict slot):
  // remembering the last bucket skips the map lookup for them.
  private lastDue = NaN
  private lastBucket: T[] = []
  private readonly heap: number[] = []
  private timer: Timer | null = null
  private timerAt = Infinity
  private readonly visit: (item: T, due: number, now: number) => void
  private readonly afterTick: (now: number) => void
  private readonly clock: Clock

  /**
   * `visit(item, due, now)` runs for every entry once its due time is reached, in due
   * order; `afterTick(now)` once after each round of visits. `clock` gives the time and
   * the timer (a fake one in tests).
   */
  constructor (visit: (item: T, due: number, now: number) => void, afterTick: (now: number) => void = () => {}, clock: Clock = realClock) {
    this.visit = visit
    this.afterTick = afterTick
    this.clock = clock
  }

  /** True while a timer is armed. */
  get armed (): boolean {
    return this.timer !== null
  }

  /** Number of distinct due times waiting. */
  get pending (): number {
    return this.heap.length
  }

  add (due: number, item: T): void {
    if (due === this.lastDue) {
      this.lastBucket.push(item)
      return
    }
    let bucket = this.buckets.get(due)
    if (bucket === undefined) {
      bucket = []
      this.buckets.set(due, bucket)
      this.push(due)
      if (due < this.timerAt) this.arm(due)
    }
    this.lastDue = due
    this.lastBucket = bucket
    bucket.push(item)
  }

  stop (): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    this.timerAt = Infinity
    this.buckets.clear()
    this.heap.length = 0
    this.lastDue = NaN
  }

  private arm (due: number): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timerAt = due
    this.timer = this.clock.setTimeout(this.tick, Math.max(0, Math.ceil(due - this.clock.now())))
  }

  private readonly tick = (): void => {
    this.timer = null
    // Entries added while visiting must not arm the timer: the heap may still hold an
    // earlier due time than theirs; the timer is armed once, for the earliest, below.
    this.timerAt = -Infinity
    const now = this.clock.now()
    const heap = this.heap
    // Node's timers run on loop time, which the plugin's clock can lag by a millisecond: a wake-up
    // that finds nothing due yet is not a tick (nothing visited, nothing to judge after).
    if (heap.length > 0 && heap[0] > now) {
      this.timerAt = Infinity
      this.arm(heap[0])
      return
    }
    while (heap.length > 0 && heap[0] <= now) {
      const due = this.pop()
      const bucket = this.buckets.get(due) as T[]
      this.buckets.delete(due)
      if (due === this.lastDue) this.lastDue = NaN
      for (let i = 0; i < bucket.length; i++) this.visit(bucket[i], due, now)
    }
    this.afterTick(now)
    this.timerAt = Infinity
    if (heap.length > 0) this.arm(heap[0])
  }

  private push (value: number): void {
    const heap = this.heap
    let i = heap.push(value) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent] <= value) break
      heap[i] = heap[parent]
      i = parent
    }
    heap[i] = value
  }

  private pop (): number {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop() as number
    const n = heap.length
    if (n > 0) {
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        if (left >= n) break
        const right = left + 1
        const child = right < n && heap[right] < heap[left] ? right : left
        if (heap[child] >= last) break
        heap[i] = heap[child]
        i = child
      }
      heap[i] = last
    }
    return top
  }
}

/**
 * Heartbeats are spread over slots, and each tick sends one slot's heartbeats. Wider
 * slots mean fewer wake-ups and larger batches of pongs to read (less CPU: measured in
 * BENCHMARKS.md), narrower ones smaller bursts (less event-loop delay). A slot is
 * MAX_SLOT_MS wide (the compromise measured at 10 000 heartbeats a second), or wider
 * when there are too few connections to fill it with PER_TICK heartbeats, since a tick
 * has a fixed cost (a wake-up, cold caches) that a handful of heartbeats cannot repay;
 * never wider than 1/SLOTS of the interval, so a heartbeat leaves at most 2 % of the
 * interval early, and a tick never carries more than max(PER_TICK, MAX_SLOT_MS worth).
 * A heartbeat's due time is rounded down to its slot (it may leave a little early, never
 * late). A verdict's is rounded up to a finer grid of at most VERDICT_SLOT_MS: it may
 * come that much late, never early, and the verdicts of one tick's heartbeats still
 * share a wake-up or two.
 */
export const SLOTS = 50
export const MAX_SLOT_MS = 20
export const PER_TICK = 200
export const VERDICT_SLOT_MS = 5

/** Slot width in whole ms (due times stay small integers: see clock.ts). */
export function slotWidth (interval: number, population = 0): number {
  const perMs = population / interval
  const filled = perMs > 0 ? Math.max(MAX_SLOT_MS, PER_TICK / perMs) : MAX_SLOT_MS
  return Math.max(1, Math.floor(Math.min(interval / SLOTS, filled)))
}

export function gridTime (time: number, interval: number, population = 0): number {
  const slot = slotWidth(interval, population)
  return small(Math.floor(time / slot) * slot)
}

export function gridTimeAfter (time: number, interval: number): number {
  const slot = Math.min(slotWidth(interval), VERDICT_SLOT_MS)
  return small(Math.ceil(time / slot) * slot)
}
