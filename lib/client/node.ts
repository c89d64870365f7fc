import WebSocket from 'ws'
import { parseRetryAfter } from './backoff.js'
import { wrapDom, type Connect, type DomSocket } from './transport.js'

function toBuffer (data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
}

/** `ws` (or a subclass of it): control frames and the upgrade response are visible. */
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
  return {
    isOpen: () => ws.readyState === WebSocket.OPEN,
    send: (data) => ws.send(data as Buffer),
    ping: (payload) => ws.ping(payload),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate()
  }
}
