import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import type { Test } from 'tap'

/**
 * A TCP server on 127.0.0.1 that speaks only as much HTTP/WebSocket as a test needs:
 * `onRequest` gets every socket once its request head is complete. `allowHalfOpen`: a
 * client's FIN does not end our side, so each test decides whether TCP is ever ended.
 * Every socket is destroyed at teardown.
 */
export async function rawServer (t: Test, onRequest: (socket: Socket, head: string) => void) {
  const sockets = new Set<Socket>()
  let ended = 0
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('end', () => { ended++ })
    socket.on('error', () => {})
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      // Keep reading (and discarding) so that the client's FIN is seen as 'end'; a test
      // that wants a server that does not read pauses the socket in onRequest.
      socket.resume()
      onRequest(socket, head)
    }
    socket.on('data', onData)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Connections the client ended or destroyed. */
    ended: () => ended
  }
}

/** Completes the upgrade by hand (RFC 6455 4.2.2), so the test owns the TCP connection. */
export function accept (socket: Socket, head: string): void {
  const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? ''
  const digest = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${digest}\r\n\r\n`)
}

/** The header of an unmasked server frame (`opcode` 0x1 text, 0x2 binary, 0x8 close) of `length` bytes. */
export function frameHeader (opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length])
  if (length < 65536) return Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
  const head = Buffer.alloc(10)
  head[0] = 0x80 | opcode
  head[1] = 127
  head.writeBigUInt64BE(BigInt(length), 2)
  return head
}

/** A server close frame. */
export function closeFrame (code: number, reason: string): Buffer {
  const body = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)])
  return Buffer.concat([frameHeader(0x8, body.length), body])
}
