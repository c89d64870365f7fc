export type Timer = ReturnType<typeof setTimeout>

/**
 * A clock (ms, monotonic) and a one-shot timer, injected into the server's scheduler and
 * the client's keepalive so that both timelines can be tested on a fake clock.
 */
export interface Clock {
  now (): number
  setTimeout (fn: () => void, ms: number): Timer
  clearTimeout (timer: Timer): void
}
