import t from 'tap'
import { clock, EPOCH, small } from '../lib/clock.js'

t.test('the clock counts whole ms since load, never 0, and maps back to epoch ms', async (t) => {
  const before = Date.now()
  const now = clock()
  const after = Date.now()
  t.ok(Number.isInteger(now) && now >= 1, `clock() = ${now}`)
  t.ok(EPOCH + now >= before - 1 && EPOCH + now <= after + 1, 'EPOCH + clock() is Date.now()')
})

t.test('a step of the wall clock does not move the clock', async (t) => {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const a = clock()
  Date.now = () => realNow() + 3_600_000
  const b = clock()
  Date.now = () => realNow() - 3_600_000
  const c = clock()
  t.ok(b - a >= 0 && b - a < 50, `an hour forward: ${b - a} ms`)
  t.ok(c - b >= 0 && c - b < 50, `an hour back: ${c - b} ms`)
})

t.test('small() keeps every integral value exact, inside and outside the 32-bit range', async (t) => {
  for (const ms of [0, 1, -1, 1000, 0x7fffffff, -0x80000000, 0x80000000, -0x80000001, 2 ** 40, Date.now()]) {
    t.equal(small(ms), ms, String(ms))
  }
})
