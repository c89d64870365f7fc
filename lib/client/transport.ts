import { utf8Length } from '../rules/index.js'
import type { WebSocketConstructor } from './options.js'

/** What the client needs from a socket, whichever WebSocket implementation is behind it. */
export interface Transport {
  isOpen (): boolean
  send (data: unknown): void
  /** Undefined when the implementation cannot send ping frames (browsers). */
  ping: ((payload: string) => void) | undefined
  close (code: number, reason: string): void
  /** Drops the connection without waiting for the close handshake, where possible. */
  terminate (): void
  /** Bytes received so far, frames in progress included; 0 where the implementation does not tell (browsers). */
  bytesRead (): number
  /** Bytes queued in this process for the server: sent by the application, not yet taken by the network. */
  bufferedAmount (): number
  /** A count that grows as queued bytes leave this process for the network. */
  bytesSent (): number
}

export interface TransportEvents<Binary> {
  open (): void
  message (data: string | Binary, isBinary: boolean): void
  /** A ping frame arrived (only implementations that expose control frames). */
  ping (): void
  pong (payload: string): void
  /**
   * The close handshake began without us: the server's close frame arrived (or the
   * implementation failed the connection), and the TCP connection may still be open
   * (only implementations that expose it: `ws`).
   */
  closing (): void
  close (code: number, reason: string): void
  error (err: Error): void
  /** The server answered the upgrade with `status` instead of 101 (Node only). */
  rejected (status: number, retryAfter: number | null): void
}

export type Connect<Binary> = (WebSocket: WebSocketConstructor, url: string, on: TransportEvents<Binary>) => Transport

export interface DomSocket {
  readyState: number
  binaryType: string
  bufferedAmount: number
  send (data: unknown): void
  close (code?: number, reason?: string): void
  addEventListener (type: string, listener: (event: any) => void): void
}

/** A WHATWG WebSocket (browsers, Node's global one): no control frames, no status code. */
export const connectDom: Connect<ArrayBuffer> = (WebSocket, url, on) => wrapDom(new WebSocket(url) as DomSocket, on)

/** Bytes `send(data)` adds to a WHATWG WebSocket's bufferedAmount: UTF-8 for text. */
function byteSize (data: unknown): number {
  if (typeof data === 'string') return utf8Length(data)
  const sized = data as { byteLength?: number, size?: number }
  return sized.byteLength ?? sized.size ?? 0
}

export function wrapDom (ws: DomSocket, on: TransportEvents<ArrayBuffer>): Transport {
  ws.binaryType = 'arraybuffer'
  // bufferedAmount counts application bytes (WHATWG HTML, "bufferedAmount"), so what has
  // left is what was sent minus what is still buffered.
  let sent = 0
  ws.addEventListener('open', () => on.open())
  ws.addEventListener('message', (event: { data: unknown }) => {
    if (typeof event.data === 'string') on.message(event.data, false)
    else on.message(event.data as ArrayBuffer, true)
  })
  ws.addEventListener('close', (event: { code: number, reason: string }) => on.close(event.code, event.reason))
  // The spec's error event carries no detail, by design (no leaking of network errors).
  ws.addEventListener('error', () => on.error(new Error('fastify-ws-heartbeat/client: WebSocket error')))
  return {
    isOpen: () => ws.readyState === 1,
    send: (data) => {
      ws.send(data)
      sent += byteSize(data)
    },
    ping: undefined,
    close: (code, reason) => ws.close(code, reason),
    terminate: () => {
      try {
        ws.close()
      } catch {}
    },
    bytesRead: () => 0,
    bufferedAmount: () => ws.bufferedAmount,
    bytesSent: () => sent - ws.bufferedAmount
  }
}
