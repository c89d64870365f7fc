import t from 'tap'
import { encodePing, encodePong, MAX_HEARTBEAT_BYTES, readHeartbeat, utf8Length } from '../../lib/rules/index.js'

const names = { typeKey: 'type', ping: 'ping', pong: 'pong', timestampKey: 'timestamp' }

t.test('recognises pings and pongs, with or without a timestamp', async (t) => {
  t.same(readHeartbeat('{"type":"ping","timestamp":12}', names), { kind: 'ping', timestamp: 12 })
  t.same(readHeartbeat('{"type":"pong","timestamp":"x","extra":1}', names), { kind: 'pong', timestamp: 'x' })
  t.same(readHeartbeat('{"type":"ping"}', names), { kind: 'ping', timestamp: undefined })
  t.same(readHeartbeat('{"type":"ping","timestamp":null}', names), { kind: 'ping', timestamp: null })
  t.same(readHeartbeat(' \n\t{"type":"pong"}\r\n ', names), { kind: 'pong', timestamp: undefined }, 'white space around')
})

t.test('everything else belongs to the application', async (t) => {
  for (const text of ['', 'ping', '"ping"', '{"type":"chat"}', '{"type":"PING"}', '[{"type":"ping"}]',
    '{"type":"ping"', 'null', '{"kind":"ping"}', '\u00a0{"type":"ping"}', '{"type":["ping"]}']) {
    t.equal(readHeartbeat(text, names), null, JSON.stringify(text))
  }
})

t.test('only text of at most 1024 UTF-8 bytes is examined', async (t) => {
  const head = '{"type":"ping","pad":"'
  const fill = (bytes: number, char = 'x'): string => head + char.repeat(bytes) + '"}'
  const exact = fill(MAX_HEARTBEAT_BYTES - head.length - 2)
  t.equal(utf8Length(exact), 1024)
  t.same(readHeartbeat(exact, names), { kind: 'ping', timestamp: undefined }, '1024 bytes: examined')
  t.equal(readHeartbeat(exact + ' ', names), null, '1025 bytes: passed through')
  const euro = fill((MAX_HEARTBEAT_BYTES - head.length - 2) / 2 - 1, 'é') + '  '
  t.equal(euro.length < 1024 && utf8Length(euro), 1024, 'two-byte characters counted as two')
  t.ok(readHeartbeat(euro, names))
  t.equal(readHeartbeat(euro + ' ', names), null)
})

t.test('utf8Length counts like Buffer.byteLength', async (t) => {
  for (const text of ['', 'abc', 'é', '€', '😀', 'a😀b', '\ud800', '\udc00x', 'x\ud800']) {
    t.equal(utf8Length(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text))
  }
})

t.test('renamed fields', async (t) => {
  const renamed = { typeKey: 'kind', ping: 'hb', pong: 'hb-ack', timestampKey: 'ts' }
  t.same(readHeartbeat('{"kind":"hb","ts":5}', renamed), { kind: 'ping', timestamp: 5 })
  t.same(readHeartbeat('{"kind":"hb-ack","ts":5}', renamed), { kind: 'pong', timestamp: 5 })
  t.equal(readHeartbeat('{"type":"ping","timestamp":5}', renamed), null)
  t.equal(encodePing(renamed, 7), '{"kind":"hb","ts":7}')
  t.equal(encodePong(renamed, 7), '{"kind":"hb-ack","ts":7}')
})

t.test('encoding', async (t) => {
  t.equal(encodePing(names, 1700000000000), '{"type":"ping","timestamp":1700000000000}')
  t.equal(encodePing(names, 1, { room: 'a', type: 'chat', timestamp: 0 }), '{"type":"ping","timestamp":1,"room":"a"}',
    'payload fields follow and cannot replace the heartbeat fields')
  t.equal(encodePong(names, 'abc'), '{"type":"pong","timestamp":"abc"}', 'timestamp echoed as received')
  t.equal(encodePong(names, undefined), '{"type":"pong"}', 'no timestamp, none echoed')
})
