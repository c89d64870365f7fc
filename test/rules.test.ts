import { test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  DEFAULT_JSON_NAMES, JsonCodec, MAX_HEARTBEAT_BYTES, MAX_TIMER_MS, checkDuration, checkJsonOptions, checkLimit,
  encodePing, encodePong, heartbeatKind, isSendableCloseCode, readHeartbeat, utf8Length, type OptionProblem
} from '../lib/rules/index.js'

const names = DEFAULT_JSON_NAMES
const problem = (p: OptionProblem): Error => Object.assign(new TypeError(`${p.name}: ${p.expected}`), { problem: p })
function problemOf (fn: () => unknown): OptionProblem | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { problem: OptionProblem }).problem
  }
  return undefined
}

test('lib/rules is browser-safe: no Buffer, no node: imports, no require', async (t) => {
  const dir = join(__dirname, '..', 'lib', 'rules')
  for (const file of readdirSync(dir)) {
    const code = readFileSync(join(dir, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
    t.notMatch(code, /\bBuffer\b|from 'node:|require\(/, file)
  }
})

test('a ping spelled with JSON escapes is a heartbeat', async (t) => {
  t.same(readHeartbeat('{"type":"\\u0070ing","timestamp":1}', names), { kind: 'ping', timestamp: 1 })
  t.same(readHeartbeat('{"\\u0074ype":"pong"}', names), { kind: 'pong', timestamp: undefined })
  t.equal(heartbeatKind(JSON.parse('{"type":"p\\u006fng"}'), names), 'pong')
})

test('what is and is not a heartbeat', async (t) => {
  t.same(readHeartbeat(' \n{"type":"ping","timestamp":null}\t', names), { kind: 'ping', timestamp: null })
  for (const text of ['[]', '"ping"', '{"type":"PING"}', '{"kind":"ping"}', '{"type":"ping"', 'x{"type":"ping"}', '']) {
    t.equal(readHeartbeat(text, names), null, text)
  }
  const head = '{"type":"ping","pad":"'
  const fill = (n: number): string => head + 'a'.repeat(n - head.length - 2) + '"}'
  t.ok(readHeartbeat(fill(MAX_HEARTBEAT_BYTES), names), 'exactly the limit')
  t.equal(readHeartbeat(fill(MAX_HEARTBEAT_BYTES + 1), names), null, 'one byte over')
  t.equal(readHeartbeat(fill(MAX_HEARTBEAT_BYTES - 1) + 'é', names), null, 'over in UTF-8 bytes, not in units')
})

test('codec: heartbeat fields first, payload cannot overwrite them, timestamps echoed as received', async (t) => {
  const codec = new JsonCodec(names)
  t.equal(codec.ping(5), '{"type":"ping","timestamp":5}')
  t.equal(codec.ping(5, { type: 'x', timestamp: 0, room: 'a' }), '{"type":"ping","timestamp":5,"room":"a"}')
  t.equal(codec.pong(undefined), '{"type":"pong"}')
  t.equal(codec.pong('x"y'), '{"type":"pong","timestamp":"x\\"y"}')
  t.equal(codec.pong({ a: [1] }), '{"type":"pong","timestamp":{"a":[1]}}')
  t.equal(encodePong({ typeKey: 't"k', ping: 'a', pong: 'b', timestampKey: 's' }, 1), '{"t\\"k":"b","s":1}')
  t.equal(encodePing(names, 7), codec.ping(7))
  t.same(JSON.parse(codec.ping(9)), { type: 'ping', timestamp: 9 })
})

test('limits', async (t) => {
  t.equal(MAX_TIMER_MS, 2147483647)
  t.equal(utf8Length('aé€😀'), 1 + 2 + 3 + 4)
  t.equal(utf8Length('\ud800'), 3)
  for (const code of [1000, 1001, 1003, 1007, 1014, 3000, 4999]) t.ok(isSendableCloseCode(code), String(code))
  for (const code of [999, 1002, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5, '1000']) t.notOk(isSendableCloseCode(code), String(code))
})

test('validators describe the problem; the caller makes the error', async (t) => {
  t.equal(checkDuration(undefined, 'interval', 10, problem), 10)
  t.equal(checkDuration(0, 'delay', 1, problem, true), 0)
  t.match(problemOf(() => checkDuration(0, 'interval', 1, problem)), { name: 'interval', value: 0 })
  t.match(problemOf(() => checkDuration(2 ** 31, 'delay', 0, problem, true)), { name: 'delay', value: 2 ** 31 })
  t.match(problemOf(() => checkDuration(NaN, 'timeout', 1, problem)), { name: 'timeout' })
  t.match(problemOf(() => checkDuration(Infinity, 'timeout', 1, problem)), { name: 'timeout' })
  t.equal(checkLimit(Infinity, 'max', 1, problem), Infinity)
  t.match(problemOf(() => checkLimit(1.5, 'max', 1, problem)), { name: 'max', expected: 'a positive integer or Infinity' })

  t.same(checkJsonOptions({ ping: 'hb' }, 'json', names, problem), { ...names, ping: 'hb', payload: undefined })
  t.match(problemOf(() => checkJsonOptions({ typeKey: 'k', timestampKey: 'k' }, 'json', names, problem)), { name: 'json.timestampKey', value: 'k' })
  t.match(problemOf(() => checkJsonOptions({ pong: 'ping' }, 'heartbeat.json', names, problem)), { name: 'heartbeat.json.pong' })
  t.match(problemOf(() => checkJsonOptions({ pnig: 'x' }, 'json', names, problem)), { name: 'json.pnig', value: 'x' })
  t.match(problemOf(() => checkJsonOptions({ ping: '' }, 'json', names, problem)), { name: 'json.ping' })
  t.match(problemOf(() => checkJsonOptions({ payload: 1 }, 'json', names, problem)), { name: 'json.payload' })
  t.match(problemOf(() => checkJsonOptions([], 'json', names, problem)), { name: 'json', expected: 'an object' })
})
