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
}

export interface TransportEvents<Binary> {
  open (): void
  message (data: string | Binary, isBinary: boolean): void
  /** A ping frame arrived (only implementations that expose control frames). */
  ping (): void
  pong (payload: string): void
  close (code: number, reason: string): void
  error (err: Error): void
  /** The server answered the upgrade with `status` instead of 101 (Node only). */
  rejected (status: number, retryAfter: number | null): void
}

export type Connect<Binary> = (WebSocket: WebSocketConstructor, url: string, on: TransportEvents<Binary>) => Transport

export interface DomSocket {
  readyState: number
  binaryType: string
  send (data: unknown): void
  close (code?: number, reason?: string): void
  addEventListener (type: string, listener: (event: any) => void): void
}

/** A WHATWG WebSocket (browsers, Node's global one): no control frames, no status code. */
export const connectDom: Connect<ArrayBuffer> = (WebSocket, url, on) => wrapDom(new WebSocket(url) as DomSocket, on)

export function wrapDom (ws: DomSocket, on: TransportEvents<ArrayBuffer>): Transport {
  ws.binaryType = 'arraybuffer'
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
    send: (data) => ws.send(data),
    ping: undefined,
    close: (code, reason) => ws.close(code, reason),
    terminate: () => {
      try {
        ws.close()
      } catch {}
    }
  }
}
