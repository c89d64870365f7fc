import t from 'tap'
import { client, next, server, sleep, until } from '../helpers/client.js'

t.test('messages sent before the first open are queued up to `queue`, then flushed in order', async (t) => {
  const { wss, url } = await server(t)
  const received: string[] = []
  wss.on('connection', (ws) => ws.on('message', (data) => received.push(data.toString())))
  const c = client(t, url, { queue: 3 })
  t.same(['a', 'b', 'c', 'd'].map((m) => c.send(m)), [true, true, true, false], 'the fourth is dropped')
  c.on('open', () => c.send('sent in open'))
  await next(c, 'open')
  t.equal(c.send('e'), true, 'sent at once while open')
  await until(t, 'all arrived', () => received.length === 5)
  t.same(received, ['a', 'b', 'c', 'sent in open', 'e'], 'queued messages go first, in order')
})

t.test('messages sent while reconnecting are flushed on the next connection', async (t) => {
  const { wss, url } = await server(t)
  const received: Array<[number, string]> = []
  let connections = 0
  wss.on('connection', (ws) => {
    const n = ++connections
    ws.on('message', (data, isBinary) => received.push([n, isBinary ? `binary:${[...data as Buffer]}` : data.toString()]))
  })
  const c = client(t, url, { queue: 10, reconnect: { initialDelay: 100, jitter: 0 } })
  await next(c, 'open')
  c.send('before')
  await until(t, 'first message arrived', () => received.length === 1)
  for (const ws of wss.clients) ws.close(4001, 'restart')
  await next(c, 'reconnecting')
  t.equal(c.send('x'), true)
  t.equal(c.send(Buffer.from([1, 2])), true)
  t.equal(c.send('y'), true)
  await next(c, 'open')
  await until(t, 'queued messages arrived', () => received.length === 4)
  t.same(received, [[1, 'before'], [2, 'x'], [2, 'binary:1,2'], [2, 'y']])
})

t.test('queue: 0 (the default) drops what cannot be sent now', async (t) => {
  const { url } = await server(t)
  const c = client(t, url, {})
  t.equal(c.send('early'), false)
  await next(c, 'open')
  t.equal(c.send('now'), true)
})

t.test('close() empties the queue; send() after close() returns false', async (t) => {
  const { wss, url } = await server(t)
  const received: string[] = []
  wss.on('connection', (ws) => ws.on('message', (data) => received.push(data.toString())))
  const c = client(t, url, { queue: 2 })
  t.equal(c.send('queued'), true)
  await c.close()
  t.equal(c.state, 'closed')
  t.equal(c.send('late'), false)
  await sleep(200)
  t.same(received, [], 'nothing queued was ever sent')
  t.equal(wss.clients.size, 0)
})
