/**
 * A load process: opens websocket connections (ws or socket.io-client) and keeps them
 * healthy: `ws` answers ping frames by itself, socket.io-client answers engine.io pings,
 * and JSON pings are answered here. Several of these run at once so that no process
 * holds more sockets than its fd limit allows.
 */
import WebSocket from 'ws'
import { io as ioClient, type Socket } from 'socket.io-client'
import { config, serve } from './common/proc.js'

export interface LoadConfig {
  kind: 'ws' | 'socketio'
}

const cfg = config<LoadConfig>()
const sockets: WebSocket[] = []
const ioSockets: Socket[] = []
let closed = 0
const closeCodes: Record<string, number> = {}

// A handshake that has not completed by then counts as failed, so that no run can hang.
const OPEN_TIMEOUT_MS = 30_000

function openWs (url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS })
    ws.once('open', () => {
      sockets.push(ws)
      resolve(true)
    })
    ws.on('error', () => resolve(false))
    ws.on('message', (data, isBinary) => {
      // A healthy JSON-mode peer answers the server's JSON pings.
      if (!isBinary && (data as Buffer).length < 64 && (data as Buffer).includes('"ping"')) {
        const msg = JSON.parse(String(data))
        ws.send(JSON.stringify({ type: 'pong', timestamp: msg.timestamp }))
      }
    })
    ws.on('close', (code) => {
      closed++
      closeCodes[code] = (closeCodes[code] ?? 0) + 1
    })
  })
}

function openIo (url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false })
    const timer = setTimeout(() => {
      socket.disconnect()
      resolve(false)
    }, OPEN_TIMEOUT_MS + 1000)
    socket.once('connect', () => {
      clearTimeout(timer)
      ioSockets.push(socket)
      resolve(true)
    })
    socket.once('connect_error', () => {
      clearTimeout(timer)
      resolve(false)
    })
    socket.on('disconnect', (reason) => {
      closed++
      closeCodes[reason] = (closeCodes[reason] ?? 0) + 1
    })
  })
}

serve({
  /** Opens `n` connections, `concurrency` handshakes at a time. */
  async open ({ url, n, concurrency }: { url: string, n: number, concurrency: number }) {
    const start = performance.now()
    let next = 0
    let opened = 0
    let failed = 0
    const open = cfg.kind === 'ws' ? openWs : openIo
    async function worker (): Promise<void> {
      while (next < n) {
        next++
        if (await open(url)) opened++
        else failed++
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
    return { opened, failed, ms: performance.now() - start }
  },
  stats () {
    const open = cfg.kind === 'ws'
      ? sockets.filter((s) => s.readyState === WebSocket.OPEN).length
      : ioSockets.filter((s) => s.connected).length
    return { open, closed, closeCodes }
  },
  /** Every connection sends a `size`-byte text message and sends again on each echo. */
  async echo ({ ms, size }: { ms: number, size: number }) {
    const head = '{"type":"msg","data":"'
    const message = head + 'x'.repeat(Math.max(0, size - head.length - 2)) + '"}'
    let running = true
    let received = 0
    const listeners = sockets.map((ws) => {
      const listener = (): void => {
        if (!running) return
        received++
        ws.send(message)
      }
      ws.on('message', listener)
      return listener
    })
    const start = performance.now()
    for (const ws of sockets) ws.send(message)
    await new Promise((resolve) => setTimeout(resolve, ms))
    running = false
    const elapsed = performance.now() - start
    // Let the messages still in flight drain before the next run.
    await new Promise((resolve) => setTimeout(resolve, 300))
    sockets.forEach((ws, i) => ws.off('message', listeners[i]))
    return { received, ms: elapsed }
  },
  async closeAll () {
    for (const ws of sockets) ws.terminate()
    for (const s of ioSockets) s.disconnect()
    sockets.length = 0
    ioSockets.length = 0
    return null
  }
})
