import type { Clock, Timer } from '../rules/clock.js'

export type { Clock, Timer }

// performance.now() is monotonic: a wall-clock change must not look like a late timer.
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => unref(setTimeout(fn, ms)),
  clearTimeout: (timer) => clearTimeout(timer)
}

/** Lets Node exit while only our housekeeping timers are left; browsers have no unref. */
export function unref (timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.()
  return timer
}
