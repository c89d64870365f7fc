import t from 'tap'
import { Keepalive } from '../../lib/client/keepalive.js'
import type { Clock, Timer } from '../../lib/client/timers.js'

/** Timers fire only when the test moves time; `stall` moves it without firing anything. */
class FakeClock implements Clock {
  time = 0
  #id = 0
  #timers = new Map<number, { at: number, fn: () => void }>()

  now (): number { return this.time }
  setTimeout (fn: () => void, ms: number): Timer {
    this.#timers.set(++this.#id, { at: this.time + ms, fn })
    return this.#id as unknown as Timer
  }

  clearTimeout (timer: Timer): void { this.#timers.delete(timer as unknown as number) }

  /** Fires the earliest timer due by `until`, if any; time moves to when it is due (or stays, if overdue). */
  step (until = Infinity): boolean {
    let next: [number, { at: number, fn: () => void }] | undefined
    for (const entry of this.#timers) if (next === undefined || entry[1].at < next[1].at) next = entry
    if (next === undefined || next[1].at > until) return false
    this.#timers.delete(next[0])
    this.time = Math.max(this.time, next[1].at)
    next[1].fn()
    return true
  }

  advance (ms: number): void {
    const end = this.time + ms
    while (this.step(end));
    this.time = end
  }

  /** The process did not run for `ms`: overdue timers fire late, in order. */
  stall (ms: number): void {
    this.time += ms
    while (this.step(this.time));
  }
}

function setup (interval: number, timeout: number) {
  const clock = new FakeClock()
  const log = { pings: [] as number[], answered: 0, dead: [] as number[], marks: [] as number[] }
  // Byte counts as a transport would show them; `moved` is set by tests that move bytes.
  const bytes = { moved: false }
  const keepalive = new Keepalive(interval, timeout, {
    ping: () => log.pings.push(clock.time),
    answered: () => log.answered++,
    mark: () => { log.marks.push(clock.time); bytes.moved = false },
    progressed: () => bytes.moved,
    dead: () => log.dead.push(clock.time)
  }, clock)
  keepalive.start()
  return { clock, log, keepalive, bytes }
}

t.test('a silent peer is dead timeout ms after the first unanswered heartbeat', async (t) => {
  const { clock, log } = setup(100, 150)
  clock.advance(249)
  t.same(log.pings, [100, 200], 'a heartbeat every interval')
  t.same(log.dead, [])
  clock.advance(1)
  t.same(log.dead, [250], 'dead at open + interval + timeout')
  clock.advance(1000)
  t.same(log.pings, [100, 200], 'nothing after death')
  t.same(log.dead, [250], 'declared dead once')
})

t.test('silent from t: dead after t + timeout and by t + interval + timeout', async (t) => {
  for (const [interval, timeout] of [[100, 150], [150, 100], [100, 100], [100, 30]]) {
    for (let silentFrom = 0; silentFrom <= 400; silentFrom += 7) {
      const { clock, log, keepalive } = setup(interval, timeout)
      // Proof of life every 10 ms (data traffic, or pongs) until the peer falls silent.
      for (let now = 10; now <= silentFrom; now += 10) {
        clock.advance(now - clock.time)
        keepalive.alive()
      }
      const lastProof = Math.floor(silentFrom / 10) * 10
      clock.advance(2000)
      t.equal(log.dead.length, 1, `interval ${interval}, timeout ${timeout}, silent from ${silentFrom}: dead once`)
      t.ok(log.dead[0] >= lastProof + timeout && log.dead[0] <= lastProof + interval + timeout,
        `dead at ${log.dead[0]}, last proof of life at ${lastProof}`)
    }
  }
})

t.test('a peer that answers every heartbeat is never dead', async (t) => {
  for (const delay of [1, 90, 149]) {
    const { clock, log, keepalive } = setup(100, 150)
    while (clock.time < 100_000) {
      const before = log.pings.length
      clock.step()
      if (log.pings.length === before) continue
      // Answered `delay` ms after the heartbeat; a slow answer may span the next heartbeat.
      clock.advance(delay)
      keepalive.alive()
    }
    t.same(log.dead, [], `answers ${delay} ms after each heartbeat: never dead`)
    t.ok(log.answered >= 500, `${log.answered} answered waits`)
  }
})

t.test('a late verdict timer starts a fresh round instead of a verdict', async (t) => {
  // lateness bound: min(1000, 100) / 2 = 50 ms
  const { clock, log } = setup(1000, 100)
  clock.advance(1050)
  t.same(log.pings, [1000])
  clock.stall(150) // verdict due at 1100 fires at 1200: 100 ms late
  t.same(log.dead, [], 'no verdict from a late timer')
  t.same(log.pings, [1000, 1200], 'a heartbeat at once')
  clock.advance(99)
  t.same(log.dead, [])
  clock.advance(1)
  t.same(log.dead, [1300], 'dead if the fresh round is not answered within timeout')
})

t.test('a timer late by at most the bound still gives its verdict', async (t) => {
  const { clock, log } = setup(1000, 100)
  clock.advance(1050)
  clock.stall(100) // verdict due at 1100 fires at 1150: exactly 50 ms late
  t.same(log.dead, [1150])
})

t.test('a late heartbeat timer (machine slept) starts a fresh round', async (t) => {
  const { clock, log, keepalive } = setup(100, 150)
  clock.advance(150) // heartbeat at 100, verdict due at 250, next heartbeat due at 200
  clock.stall(10_000)
  t.same(log.pings, [100, 10_150], 'one heartbeat on waking, not a burst')
  t.same(log.dead, [])
  clock.advance(10)
  keepalive.alive()
  t.equal(log.answered, 1, 'the fresh round is answered')
  clock.advance(150)
  t.same(log.pings, [100, 10_150, 10_250], 'back to a heartbeat every interval')
  t.same(log.dead, [])
})

t.test('input waiting when the verdict is due is read before the verdict', async (t) => {
  const { clock, log, keepalive } = setup(100, 150)
  while (clock.time < 250) clock.step()
  t.equal(clock.time, 250, 'verdict timer fired on time')
  t.same(log.dead, [], 'the verdict waits one macrotask')
  keepalive.alive() // the pong the socket had already received
  clock.advance(100)
  t.same(log.dead, [])
  t.equal(log.answered, 1)
})

t.test('answered is reported once per answered wait, and stop() stops everything', async (t) => {
  const { clock, log, keepalive } = setup(100, 150)
  keepalive.alive()
  t.equal(log.answered, 0, 'proof of life with no heartbeat outstanding answers nothing')
  clock.advance(100)
  keepalive.alive()
  keepalive.alive()
  t.equal(log.answered, 1)
  keepalive.stop()
  clock.advance(10_000)
  t.same(log.pings, [100])
  t.same(log.dead, [])
})

t.test('bytes moving since the wait opened are proof of life when the verdict is due', async (t) => {
  const { clock, log, bytes } = setup(100, 150)
  clock.advance(100)
  t.same(log.marks, [100], 'marked when the heartbeat opened the wait, before its ping')
  clock.advance(100)
  bytes.moved = true // part of a large frame arrived, or our queue drained a little
  clock.advance(50)
  t.same(log.dead, [], 'not dead at 250: bytes moved')
  t.equal(log.answered, 1, 'the wait was closed as answered')
  clock.advance(50)
  t.same(log.marks, [100, 300], 'the next heartbeat opens a new wait and marks again')
  clock.advance(150)
  t.same(log.dead, [450], 'no bytes since: dead timeout ms after that heartbeat')
})

t.test('bytes that keep moving keep the connection alive; dead within interval + timeout of the check that saw the last', async (t) => {
  for (const [interval, timeout] of [[100, 150], [150, 100], [100, 30]]) {
    const { clock, log, bytes } = setup(interval, timeout)
    const stopAt = 2000
    // Bytes move every 10 ms (a slow large frame) until stopAt; no whole frame ever arrives.
    while (clock.time < stopAt) {
      clock.advance(10)
      bytes.moved = true
    }
    t.same(log.dead, [], `interval ${interval}, timeout ${timeout}: alive while bytes move`)
    clock.advance(5000)
    t.equal(log.dead.length, 1)
    // The last verdict that saw bytes came at most timeout (+ one macrotask) before they stopped.
    t.ok(log.dead[0] > stopAt && log.dead[0] <= stopAt + interval + 2 * timeout,
      `dead at ${log.dead[0]}, bytes stopped at ${stopAt}`)
  }
})

t.test('no bytes moving: the verdict is given as before', async (t) => {
  const { clock, log } = setup(100, 150)
  clock.advance(250)
  t.same(log.dead, [250])
})
