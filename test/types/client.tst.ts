import { expect, test } from 'tstyche'
import { HeartbeatClient, type ClientState, type HeartbeatClientError, type ReconnectInfo, type ReconnectingInfo } from '../../lib/client/index.js'

const client = new HeartbeatClient('ws://127.0.0.1:3000/chat')

test('constructor options', () => {
  expect(HeartbeatClient).type.toBeConstructableWith('ws://x', { mode: 'frame', interval: 1000, timeout: 1000, closeTimeout: 500 })
  expect(HeartbeatClient).type.toBeConstructableWith(new URL('ws://x'), { reconnect: false, queue: 10 })
  expect(HeartbeatClient).type.toBeConstructableWith('ws://x', {
    json: { typeKey: 'op', ping: 'hb', pong: 'hb-ack', timestampKey: 'ts' },
    reconnect: { initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5, maxAttempts: 5, shouldReconnect: (code: number, reason: string) => code !== 4001 && reason !== 'x' }
  })
  expect(HeartbeatClient).type.toBeConstructableWith('ws://x', { connectTimeout: 5000 })
  expect(HeartbeatClient).type.not.toBeConstructableWith('ws://x', { connectTimeout: '5s' })
  expect(HeartbeatClient).type.not.toBeConstructableWith('ws://x', { mode: 'bogus' })
  expect(HeartbeatClient).type.not.toBeConstructableWith('ws://x', { interval: '1s' })
  expect(HeartbeatClient).type.not.toBeConstructableWith(42)
})

test('state, latency, send, close', () => {
  expect(client.state).type.toBe<ClientState>()
  expect<ClientState>().type.toBe<'connecting' | 'open' | 'reconnecting' | 'closed'>()
  expect(client.latency).type.toBe<number | null>()
  expect(client.send('x')).type.toBe<boolean>()
  expect(client.send(new Uint8Array(2))).type.toBe<boolean>()
  expect(client.close()).type.toBe<Promise<void>>()
  expect(client.close).type.toBeCallableWith(4000, 'bye')
})

test('event listener arguments', () => {
  client.on('message', (data) => { expect(data).type.toBe<string | Buffer>() })
  client.on('close', (code, reason) => {
    expect(code).type.toBe<number>()
    expect(reason).type.toBe<string>()
  })
  client.on('reconnecting', (info) => { expect(info).type.toBe<ReconnectingInfo>() })
  client.on('latency', (ms) => { expect(ms).type.toBe<number>() })
  client.once('error', (err) => {
    expect(err).type.toBe<HeartbeatClientError>()
    expect(err).type.toBeAssignableTo<Error>()
    expect(err.statusCode).type.toBe<number | undefined>()
    expect(err.retryAfter).type.toBe<number | null | undefined>()
  })
  expect(client.on).type.not.toBeCallableWith('bogus', () => {})
})

test('shouldReconnect gets the close code, reason and { statusCode? }', () => {
  expect(HeartbeatClient).type.toBeConstructableWith('ws://x', {
    reconnect: {
      shouldReconnect: (code: number, reason: string, info: ReconnectInfo) => {
        expect(info.statusCode).type.toBe<number | undefined>()
        return info.statusCode === 401 || code !== 1011 || reason !== ''
      }
    }
  })
  expect(HeartbeatClient).type.toBeConstructableWith('ws://x', { reconnect: { shouldReconnect: () => true } })
  expect(HeartbeatClient).type.not.toBeConstructableWith('ws://x', { reconnect: { shouldReconnect: (_c: number, _r: string, info: { statusCode: string }) => info.statusCode === '' } })
})
