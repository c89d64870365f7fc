// The clients of the cluster benchmark (bench/cluster.ts), spread over the instances:
// `ws` for the plugin, socket.io-client (websocket transport) for Socket.IO. Each message
// carries its send time; the latency is receive time minus send time.
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import { performance } from 'node:perf_hooks'
import { config, serve } from './common/proc.js'

interface Cfg { kind: 'plugin' | 'socketio', ports: number[], perServer: number }

const cfg = config<Cfg>()
let received = 0
let last = 0
let latencies: number[] = []

function onMessage (text: string): void {
  const now = performance.timeOrigin + performance.now()
  received++
  last = now
  // One sample in 4 keeps the array small at high rates; enough for p99.
  if ((received & 3) === 0) latencies.push(now - Number(text.slice(0, text.indexOf('|'))))
}

async function open (): Promise<number> {
  const waits: Array<Promise<void>> = []
  for (const port of cfg.ports) {
    for (let i = 0; i < cfg.perServer; i++) {
      if (cfg.kind === 'plugin') {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/bench`)
        ws.on('message', (data) => onMessage(data.toString()))
        waits.push(new Promise((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) }))
      } else {
        const socket: Socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'] })
        socket.on('m', onMessage)
        waits.push(new Promise((resolve, reject) => { socket.once('connect', () => resolve()); socket.once('connect_error', reject) }))
      }
    }
  }
  await Promise.all(waits)
  return waits.length
}

function quantile (sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

serve({
  open,
  reset: () => { received = 0; last = 0; latencies = [] },
  stats: () => {
    const sorted = Float64Array.from(latencies).sort()
    return { received, last, p50: quantile(Array.from(sorted), 0.5), p99: quantile(Array.from(sorted), 0.99) }
  }
})
