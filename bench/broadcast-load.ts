/**
 * A load process of the broadcast benchmark: raw TCP websocket clients (handshake by
 * hand, no permessage-deflate) that walk every received frame header and count the text
 * frames of the expected payload length. Walking headers instead of decoding messages in
 * `ws` keeps the clients' CPU small beside the server's on a shared machine, while every
 * delivery is still a frame that really arrived, whole, in a well-formed stream.
 */
import { request } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { config, serve } from './common/proc.js'

export interface BroadcastLoadConfig {
  /** socket.io: after the upgrade, join the default namespace (Engine.IO message "40"). */
  socketio: boolean
}

const cfg = config<BroadcastLoadConfig>()
const sockets: Socket[] = []
let expected = -1
let frames = 0
let others = 0
let closed = 0

/** A masked client text frame (RFC 6455: a client masks everything it sends). */
function clientText (text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = randomBytes(4)
  const out = Buffer.alloc(6 + payload.length)
  out[0] = 0x81
  out[1] = 0x80 | payload.length
  mask.copy(out, 2)
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i & 3]
  return out
}

/** Counts frames across chunk boundaries; a frame's header may be split, its payload is skipped. */
function frameCounter (): (chunk: Buffer) => void {
  let skip = 0
  let carry: Buffer | null = null
  return (chunk) => {
    if (carry !== null) {
      chunk = Buffer.concat([carry, chunk])
      carry = null
    }
    let i = 0
    while (i < chunk.length) {
      if (skip > 0) {
        const k = Math.min(skip, chunk.length - i)
        i += k
        skip -= k
        continue
      }
      const left = chunk.length - i
      if (left < 2) { carry = chunk.subarray(i); return }
      const b0 = chunk[i]
      const b1 = chunk[i + 1] & 0x7f
      let header = 2
      let length = b1
      if (b1 === 126) {
        if (left < 4) { carry = chunk.subarray(i); return }
        length = chunk.readUInt16BE(i + 2)
        header = 4
      } else if (b1 === 127) {
        if (left < 10) { carry = chunk.subarray(i); return }
        length = chunk.readUInt32BE(i + 2) * 2 ** 32 + chunk.readUInt32BE(i + 6)
        header = 10
      }
      if (b0 === 0x81 && length === expected) frames++
      else others++
      i += header
      skip = length
    }
  }
}

function open (port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13'
      }
    })
    req.setTimeout(30_000, () => { req.destroy(); resolve(false) })
    req.on('error', () => resolve(false))
    req.on('response', (res) => { res.resume(); resolve(false) })
    req.on('upgrade', (_res, socket, head) => {
      const count = frameCounter()
      socket.setNoDelay(true)
      socket.on('data', count)
      socket.on('error', () => {})
      socket.on('close', () => { closed++ })
      if (head.length > 0) count(head)
      if (cfg.socketio) socket.write(clientText('40'))
      sockets.push(socket)
      resolve(true)
    })
    req.end()
  })
}

serve({
  /** Opens `n` connections, `concurrency` handshakes at a time. */
  async open ({ port, path, n, concurrency }: { port: number, path: string, n: number, concurrency: number }) {
    let next = 0
    let opened = 0
    let failed = 0
    async function worker (): Promise<void> {
      while (next < n) {
        next++
        if (await open(port, path)) opened++
        else failed++
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
    return { opened, failed }
  },
  /** Starts counting text frames of `length` payload bytes from zero. */
  expect ({ length }: { length: number }) {
    expected = length
    frames = 0
    others = 0
    return null
  },
  count: () => ({ frames, others, closed, open: sockets.length - closed })
})
