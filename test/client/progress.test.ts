import t from 'tap'
import type { Socket } from 'node:net'
import { client, next, sleep } from '../helpers/client.js'
import { accept, frameHeader, rawServer } from '../helpers/raw-ws.js'

t.setTimeout(30_000)

// These servers never answer a heartbeat: the only proof of life is bytes moving.
const options = { interval: 100, timeout: 200, closeTimeout: 300, reconnect: false } as const

/** Writes `length` bytes of payload in `chunk`-byte pieces every `every` ms (or until the socket goes). */
function trickle (socket: Socket, length: number, chunk: number, every: number): void {
  let left = length
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer)
    const n = Math.min(chunk, left)
    socket.write(Buffer.alloc(n, 0x61))
    left -= n
    if (left === 0) clearInterval(timer)
  }, every)
  socket.on('close', () => clearInterval(timer))
}

t.test('a single large message arriving slower than timeout: its bytes prove life', async (t) => {
  // 64 KiB in 2 KiB pieces every 25 ms: about 800 ms for one frame, 4x the timeout.
  const length = 64 * 1024
  const { url } = await rawServer(t, (socket, head) => {
    accept(socket, head)
    socket.write(frameHeader(0x2, length))
    trickle(socket, length, 2048, 25)
  })
  const c = client(t, url, options)
  c.on('timeout', () => t.fail('declared dead while the frame was arriving'))
  await next(c, 'open')
  const start = performance.now()
  const [data] = await next(c, 'message', 5000)
  t.equal((data as Buffer).length, length, 'the whole message arrived')
  t.ok(performance.now() - start > 600, 'it took longer than timeout + interval')
  t.equal(c.state, 'open')
})

t.test('after the last bytes the server is silent: dropped within interval + timeout of the check that saw them', async (t) => {
  const length = 16 * 1024
  const { url } = await rawServer(t, (socket, head) => {
    accept(socket, head)
    socket.write(frameHeader(0x2, length))
    trickle(socket, length, 2048, 25)
  })
  const c = client(t, url, options)
  await next(c, 'open')
  await next(c, 'message')
  const lastBytes = performance.now()
  await next(c, 'timeout', 2000)
  const elapsed = performance.now() - lastBytes
  // The last verdict that saw bytes is at most timeout before they stopped.
  t.ok(elapsed <= 100 + 2 * 200 + 100, `dropped ${elapsed.toFixed(0)} ms after the last bytes`)
})

// Sending 16 MiB (ws masks it in JS) can itself take a second on a busy machine: times
// are taken after send() returns. The kernel takes about 4 MiB; the rest waits here.
const upload = 16 * 1024 * 1024
// Heartbeats less often than above: a timer more than min(interval, timeout) / 2 late
// (send() masking 16 MiB, a busy machine) starts a fresh round, which these bounds allow for.
const uploading = { interval: 400, timeout: 800, closeTimeout: 300, reconnect: false } as const

t.test('our heartbeat queued behind a large upload the server reads slowly: data leaving proves life', async (t) => {
  const { url } = await rawServer(t, (socket, head) => {
    accept(socket, head)
    // Reads 32 KiB every 10 ms (about 3 MB/s: 4 s for what waits here), never answers.
    socket.pause()
    // read(n) waits for n bytes (raising the buffer to n); read() takes a shorter tail.
    const timer = setInterval(() => socket.read(32 * 1024) ?? socket.read(), 10)
    socket.on('close', () => clearInterval(timer))
  })
  const c = client(t, url, uploading)
  c.on('timeout', () => t.fail('declared dead while the server was reading'))
  await next(c, 'open')
  t.ok(c.send(Buffer.alloc(upload)))
  await sleep(2500)
  t.equal(c.state, 'open', 'open 2.5 s later: more than twice interval + timeout')
})

t.test('a server that reads nothing is still dropped within interval + timeout', async (t) => {
  const { url } = await rawServer(t, (socket, head) => {
    accept(socket, head)
    socket.pause()
  })
  const c = client(t, url, uploading)
  await next(c, 'open')
  c.send(Buffer.alloc(upload))
  const start = performance.now()
  await next(c, 'timeout', 3000)
  const elapsed = performance.now() - start
  t.ok(elapsed <= 400 + 800 + 150, `dropped ${elapsed.toFixed(0)} ms after the upload was queued`)
})

t.test('messages that leave at once prove nothing: a server that reads but never answers is dropped', async (t) => {
  // The kernel takes small messages whether or not the server is alive (a black hole
  // would too): only data that had to wait in this process, then left, counts.
  const { url } = await rawServer(t, accept)
  const c = client(t, url, options)
  await next(c, 'open')
  const start = performance.now()
  const timer = setInterval(() => c.send('typing...'), 20)
  t.teardown(() => clearInterval(timer))
  await next(c, 'timeout', 2000)
  const elapsed = performance.now() - start
  t.ok(elapsed <= 100 + 200 + 100, `dropped after ${elapsed.toFixed(0)} ms`)
})
