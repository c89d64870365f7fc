import WebSocket from 'ws'
import { parseRetryAfter } from './backoff.js'
import { wrapDom, type Connect, type DomSocket } from './transport.js'

/** The parts of the net.Socket under a `ws` socket that show bytes moving. */
interface RawSocket {
  bytesRead: number
  writableLength: number
  /** Bytes handed to libuv so far (net.Socket keeps it for bytesWritten). */
  _bytesDispatched?: number
  /** libuv's count of handed bytes not yet taken by the kernel: it shrinks during one large write. */
  _handle?: { writeQueueSize?: number } | null
}

function toBuffer (data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
}

/** `ws` (or a subclass of it): control frames, the upgrade response and the byte counts are visible. */
export const connectNode: Connect<Buffer> = (Ctor, url, on) => {
  const ws = new Ctor(url) as WebSocket
  // A WHATWG WebSocket handed to the Node entry (Node's global one) has no .on().
  if (typeof ws.on !== 'function') {
    return wrapDom(ws as unknown as DomSocket, {
      ...on,
      message: (data, isBinary) => on.message(isBinary ? Buffer.from(data as ArrayBuffer) : data as string, isBinary)
    })
  }
  ws.binaryType = 'nodebuffer'
  let rejected = false
  ws.on('open', () => on.open())
  ws.on('message', (data, isBinary) => {
    const buffer = toBuffer(data)
    on.message(isBinary ? buffer : buffer.toString('utf8'), isBinary)
  })
  ws.on('ping', () => on.ping())
  ws.on('pong', (data) => on.pong(data.toString('utf8')))
  ws.on('close', (code, reason) => on.close(code, reason.toString('utf8')))
  ws.on('error', (err) => {
    // terminate() below makes ws report "closed before the connection was established",
    // which says less than the rejection we already reported.
    if (!rejected) on.error(err)
  })
  ws.on('unexpected-response', (req, res) => {
    rejected = true
    const header = res.headers['retry-after']
    on.rejected(res.statusCode ?? 0, parseRetryAfter(Array.isArray(header) ? header[0] : header))
    res.resume()
    ws.terminate()
  })
  // ws answers a server's close frame (or a protocol error) by calling close() on the
  // socket itself, then waits 30 s for the server to end TCP, with no event in between:
  // its own call is where the client learns that the handshake began. Our calls go to the
  // prototype's close directly.
  const close = ws.close
  ws.close = (code?: number, reason?: string | Buffer) => {
    if (ws.readyState === WebSocket.OPEN) on.closing()
    close.call(ws, code, reason)
  }
  // ws keeps the net.Socket in `_socket` (as the server side of this package reads it).
  const raw = (): RawSocket | undefined => (ws as unknown as { _socket?: RawSocket })._socket ?? undefined
  return {
    isOpen: () => ws.readyState === WebSocket.OPEN,
    send: (data) => ws.send(data as Buffer),
    ping: (payload) => ws.ping(payload),
    close: (code, reason) => close.call(ws, code, reason),
    terminate: () => ws.terminate(),
    bytesRead: () => raw()?.bytesRead ?? 0,
    // In-process bytes at the socket: ws's own queue only holds messages being compressed,
    // which says nothing about whether the server reads.
    bufferedAmount: () => raw()?.writableLength ?? ws.bufferedAmount,
    bytesSent: () => {
      const socket = raw()
      return (socket?._bytesDispatched ?? 0) - (socket?._handle?.writeQueueSize ?? 0)
    }
  }
}
