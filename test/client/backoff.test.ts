import t from 'tap'
import { backoffDelay, parseRetryAfter, reconnectDelay, type ReconnectPolicy } from '../../lib/client/backoff.js'

const opts = { initialDelay: 1000, maxDelay: 30_000, factor: 2, jitter: 0.5 }
const policy: ReconnectPolicy = { ...opts, maxAttempts: Infinity, shouldReconnect: undefined }

t.test('grows by factor from initialDelay and caps at maxDelay (r = 0: no jitter)', async (t) => {
  const delays = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, opts, () => 0))
  t.same(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
})

t.test('jitter is applied after the cap, so delays at the cap stay spread', async (t) => {
  t.equal(backoffDelay(20, opts, () => 0.5), 22_500, '30000 * (1 - 0.5 * 0.5)')
  t.equal(backoffDelay(1, opts, () => 0.5), 750)
  t.equal(backoffDelay(20, opts, () => 0.999_999), 15_000, 'r close to 1 halves the capped delay')
  const seen = new Set<number>()
  for (let i = 0; i < 1000; i++) {
    const delay = backoffDelay(20, opts)
    t.ok(delay > 15_000 - 1 && delay <= 30_000, `${delay} within (maxDelay * (1 - jitter), maxDelay]`)
    seen.add(delay)
  }
  t.ok(seen.size > 100, 'clients at the cap do not all wait the same time')
})

t.test('jitter 0 and factor 1 give a constant delay', async (t) => {
  const flat = { initialDelay: 300, maxDelay: 30_000, factor: 1, jitter: 0 }
  t.same([1, 2, 10].map((n) => backoffDelay(n, flat)), [300, 300, 300])
})

t.test('reconnectDelay: when not to reconnect', async (t) => {
  t.equal(reconnectDelay(false, 0, 1006, '', null), undefined, 'reconnect: false')
  t.equal(reconnectDelay(policy, 0, 1008, 'policy', null), undefined, '1008 closes for good')
  t.equal(reconnectDelay({ ...policy, maxAttempts: 3 }, 3, 1006, '', null), undefined, 'maxAttempts reached')
  t.equal(reconnectDelay({ ...policy, maxAttempts: 3 }, 2, 1006, '', null, undefined, () => 0), 4000, 'one attempt left')
  t.equal(reconnectDelay({ ...policy, maxAttempts: 0 }, 0, 1006, '', null), undefined, 'maxAttempts 0')
  const calls: unknown[] = []
  const no = { ...policy, shouldReconnect: (...args: unknown[]) => { calls.push(args); return false } }
  t.equal(reconnectDelay(no, 0, 4001, 'bye', null), undefined)
  t.same(calls, [[4001, 'bye', {}]], 'shouldReconnect gets code, reason and {}')
  const yes = { ...policy, shouldReconnect: () => true }
  t.equal(reconnectDelay(yes, 0, 1011, '', null, undefined, () => 0), 1000)
  const throws = { ...policy, shouldReconnect: () => { throw new Error('boom') } }
  t.throws(() => reconnectDelay(throws, 0, 1011, '', null), /boom/)
})

t.test('reconnectDelay: a 4xx upgrade answer other than 408/429 stops unless shouldReconnect says yes', async (t) => {
  for (const status of [400, 401, 403, 404, 499]) {
    t.equal(reconnectDelay(policy, 0, 1006, '', null, status), undefined, `${status} stops`)
    const calls: unknown[] = []
    const yes = { ...policy, shouldReconnect: (...args: unknown[]) => { calls.push(args); return true } }
    t.equal(reconnectDelay(yes, 0, 1006, '', null, status, () => 0), 1000, `${status} retried when shouldReconnect returns true`)
    t.same(calls, [[1006, '', { statusCode: status }]])
  }
  for (const status of [408, 429, 500, 503, 302]) {
    t.equal(reconnectDelay(policy, 0, 1006, '', null, status, () => 0), 1000, `${status} retried`)
    const calls: unknown[] = []
    const ask = { ...policy, shouldReconnect: (...args: unknown[]) => { calls.push(args); return true } }
    reconnectDelay(ask, 0, 1006, '', null, status, () => 0)
    t.same(calls, [[1006, '', {}]], `${status}: shouldReconnect gets {}`)
  }
  t.equal(reconnectDelay({ ...policy, maxAttempts: 1 }, 1, 1006, '', null, 404, () => 0), undefined, 'maxAttempts still applies')
})

t.test('reconnectDelay: attempt n uses the n-th backoff, retry-after can only lengthen it', async (t) => {
  t.equal(reconnectDelay(policy, 0, 1006, '', null, undefined, () => 0), 1000, 'first attempt')
  t.equal(reconnectDelay(policy, 2, 1006, '', null, undefined, () => 0), 4000, 'third attempt')
  t.equal(reconnectDelay(policy, 0, 1006, '', 5000, undefined, () => 0), 5000, 'retry-after longer than backoff')
  t.equal(reconnectDelay(policy, 4, 1006, '', 5000, undefined, () => 0), 16_000, 'backoff longer than retry-after')
  t.equal(reconnectDelay(policy, 0, 1006, '', 1e12, undefined, () => 0), 2 ** 31 - 1, 'capped at what setTimeout can wait')
})

t.test('parseRetryAfter: delta-seconds or HTTP date', async (t) => {
  const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT')
  t.equal(parseRetryAfter('1', now), 1000)
  t.equal(parseRetryAfter(' 120 ', now), 120_000)
  t.equal(parseRetryAfter('0', now), 0)
  t.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:42 GMT', now), 5000)
  t.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:00 GMT', now), 0, 'a date in the past means now')
  t.equal(parseRetryAfter('soon', now), null)
  t.equal(parseRetryAfter('-1', now), null)
  t.equal(parseRetryAfter('1.5', now), null)
  t.equal(parseRetryAfter('', now), null)
  t.equal(parseRetryAfter(undefined, now), null)
})
