import t from 'tap'
import { Scheduler, gridTime, slotWidth, SLOTS, MAX_SLOT_MS, PER_TICK } from '../lib/scheduler.js'
import type { Clock, Timer } from '../lib/clock.js'
import { performance } from 'node:perf_hooks'
import { clock } from '../lib/clock.js'
import { sleep } from './helpers/index.js'

t.test('gridTime rounds down to one of SLOTS phases per interval', async (t) => {
  const interval = 1000
  for (const time of [0, 1, 9.99, 10, 123456789, 1795632462634]) {
    const g = gridTime(time, interval)
    t.ok(g <= time, `${g} <= ${time}`)
    t.ok(time - g < interval / SLOTS, 'less than one slot early')
  }
  t.equal(gridTime(25, 1000), 20)
})

t.test('slots: MAX_SLOT_MS wide, wider when too few connections fill one, never over 1/SLOTS of the interval', async (t) => {
  t.equal(slotWidth(1000, 10_000), MAX_SLOT_MS, '10 000 heartbeats a second fill 20 ms slots')
  t.equal(slotWidth(20_000, 1_000_000), MAX_SLOT_MS)
  t.equal(slotWidth(20_000, 50_000), 80, `50 000 per 20 s: ${PER_TICK} per 80 ms slot`)
  t.equal(slotWidth(20_000, 1), 20_000 / SLOTS, 'a lone connection: capped at 1/SLOTS of the interval')
  t.equal(slotWidth(100, 5), 2)
  t.equal(slotWidth(30, 5), 1, 'whole ms, at least 1')
  for (const pop of [1, 10, 1000, 50_000]) {
    const g = gridTime(123_456, 20_000, pop)
    t.ok(Number.isInteger(g) && g <= 123_456 && 123_456 - g < slotWidth(20_000, pop), `grid for ${pop}`)
  }
})

t.test('visits entries in due order, each at or after its due time, with one timer', async (t) => {
  const visits: Array<[string, number, number]> = []
  const s = new Scheduler<string>((item, due, now) => { visits.push([item, due, now]) })
  t.teardown(() => s.stop())
  const base = clock()
  s.add(base + 60, 'c')
  s.add(base + 20, 'a')
  s.add(base + 40, 'b')
  s.add(base + 20, 'a2')
  t.equal(s.pending, 3, 'entries with the same due time share a bucket')
  await sleep(120)
  t.same(visits.map((v) => v[0]), ['a', 'a2', 'b', 'c'])
  for (const [item, due, now] of visits) t.ok(now >= due, `${item} not early`)
  t.equal(s.pending, 0)
})

t.test('an entry added while visiting, due before the rest, is not delayed behind them', async (t) => {
  const seen: Array<[string, number]> = []
  const base = clock()
  const s = new Scheduler<string>((item, due, now) => {
    seen.push([item, now - due])
    if (item === 'first') s.add(now + 10, 'added')
  })
  t.teardown(() => s.stop())
  s.add(base + 10, 'first')
  s.add(base + 200, 'later')
  await sleep(260)
  t.same(seen.map((x) => x[0]), ['first', 'added', 'later'])
  const lateness = seen.find((x) => x[0] === 'added')?.[1] as number
  t.ok(lateness < 50, `added entry ran ${lateness} ms after its due time`)
})

t.test('afterTick runs once per tick; stop() cancels everything', async (t) => {
  let ticks = 0
  let visits = 0
  const s = new Scheduler<number>(() => { visits++ }, () => { ticks++ })
  const base = clock()
  for (let i = 0; i < 100; i++) s.add(base + 10, i)
  s.add(base + 500, -1)
  await sleep(60)
  t.equal(visits, 100)
  t.equal(ticks, 1)
  s.stop()
  await sleep(500)
  t.equal(visits, 100, 'nothing after stop')
  t.equal(s.pending, 0)
})

t.test('a wake-up before the clock reaches the due time re-arms and is not a tick', async (t) => {
  // Node's timers and the plugin's clock read the time differently (loop time, rounded,
  // vs performance.now()): the clock may lag a timer. Simulate a 15 ms lag.
  const realNow = performance.now.bind(performance)
  t.teardown(() => { performance.now = realNow })
  let ticks = 0
  const seen: Array<[number, number]> = []
  const s = new Scheduler<number>((_item, due, now) => { seen.push([due, now]) }, () => { ticks++ })
  t.teardown(() => s.stop())
  const due = clock() + 20
  s.add(due, 1)
  performance.now = () => realNow() - 15
  await sleep(25)
  t.equal(seen.length, 0, 'nothing visited before its due time by the clock')
  t.equal(ticks, 0, 'the early wake-up did not count as a tick')
  await sleep(60)
  t.equal(seen.length, 1)
  t.ok(seen[0][1] >= seen[0][0], 'visited at or after its due time')
  t.equal(ticks, 1)
})

/** The scheduler's clock and timer, moved only by the test. */
class FakeClock implements Clock {
  time = 1000
  timers = new Map<number, { at: number, fn: () => void }>()
  #id = 0
  now (): number { return this.time }
  setTimeout (fn: () => void, ms: number): Timer {
    this.timers.set(++this.#id, { at: this.time + ms, fn })
    return this.#id as unknown as Timer
  }

  clearTimeout (timer: Timer): void { this.timers.delete(timer as unknown as number) }

  /** Moves time to `until`, firing each timer when its time comes. */
  advance (ms: number): void {
    const end = this.time + ms
    for (;;) {
      let next: [number, { at: number, fn: () => void }] | undefined
      for (const entry of this.timers) if (next === undefined || entry[1].at < next[1].at) next = entry
      if (next === undefined || next[1].at > end) break
      this.timers.delete(next[0])
      this.time = Math.max(this.time, next[1].at)
      next[1].fn()
    }
    this.time = end
  }
}

t.test('fake clock: one timer armed for the earliest due time; visits in order, at their time', async (t) => {
  const clock = new FakeClock()
  const seen: Array<[string, number, number]> = []
  let ticks = 0
  const s = new Scheduler<string>((item, due, now) => { seen.push([item, due, now]) }, () => { ticks++ }, clock)
  s.add(1060, 'c')
  s.add(1020, 'a')
  s.add(1040, 'b')
  s.add(1020, 'a2')
  t.equal(clock.timers.size, 1, 'one timer')
  t.equal([...clock.timers.values()][0].at, 1020, 'armed for the earliest')
  clock.advance(19)
  t.same(seen, [], 'nothing before its due time')
  clock.advance(1)
  t.same(seen, [['a', 1020, 1020], ['a2', 1020, 1020]])
  clock.advance(100)
  t.same(seen.map((v) => v[0]), ['a', 'a2', 'b', 'c'])
  for (const [item, due, now] of seen) t.equal(now, due, `${item} at its due time`)
  t.equal(ticks, 3)
  t.equal(s.pending, 0)
  t.equal(s.armed, false, 'no timer left')
})

t.test('fake clock: a late timer visits everything overdue in one tick, in due order', async (t) => {
  const clock = new FakeClock()
  const seen: Array<[number, number]> = []
  let ticks = 0
  const s = new Scheduler<number>((item, _due, now) => { seen.push([item, now]) }, () => { ticks++ }, clock)
  for (const due of [1030, 1010, 1020]) s.add(due, due)
  // The process did not run for 500 ms: the timer fires late, once.
  clock.time += 500
  clock.advance(0)
  t.same(seen, [[1010, 1500], [1020, 1500], [1030, 1500]])
  t.equal(ticks, 1)
})

t.test('fake clock: a wake-up before the due time re-arms and is not a tick; stop() clears the timer', async (t) => {
  const clock = new FakeClock()
  let visits = 0
  let ticks = 0
  const s = new Scheduler<number>(() => { visits++ }, () => { ticks++ }, clock)
  s.add(1050, 1)
  const [timer] = [...clock.timers.values()]
  // The timer fires while the clock still reads earlier than the due time.
  clock.timers.clear()
  clock.time = 1049
  timer.fn()
  t.equal(visits, 0)
  t.equal(ticks, 0)
  t.equal(clock.timers.size, 1, 're-armed')
  clock.advance(1)
  t.equal(visits, 1)
  t.equal(ticks, 1)
  s.add(2000, 2)
  s.stop()
  t.equal(clock.timers.size, 0, 'stop() cleared the timer')
  t.equal(s.pending, 0)
})
