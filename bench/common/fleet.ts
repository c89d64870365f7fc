import { Child, split } from './proc.js'
import type { ServerConfig } from '../server.js'
import type { LoadConfig } from '../load.js'

/** Sockets per load process: well under the per-process fd limit, and spread over cores. */
const PER_LOAD = 2_500

export interface Fleet {
  server: Child
  port: number
  loads: Child[]
}

export async function startServer (cfg: ServerConfig, nodeFlags: string[] = []): Promise<{ server: Child, port: number }> {
  const server = new Child('server', cfg, nodeFlags)
  const { port } = await server.call<{ port: number }>('listen', undefined, 30_000)
  return { server, port }
}

export function startLoads (n: number, kind: LoadConfig['kind']): Child[] {
  const count = Math.max(1, Math.ceil(n / PER_LOAD))
  return Array.from({ length: count }, () => new Child('load', { kind } satisfies LoadConfig))
}

/** Opens `n` connections spread over `loads`; resolves once all handshakes are done. */
export async function openConnections (loads: Child[], url: string, n: number, concurrency = 64): Promise<{ opened: number, failed: number, ms: number }> {
  const start = performance.now()
  const parts = split(n, loads.length)
  const results = await Promise.all(loads.map((load, i) => load.call<{ opened: number, failed: number }>('open', { url, n: parts[i], concurrency }, 600_000)))
  return {
    opened: results.reduce((s, r) => s + r.opened, 0),
    failed: results.reduce((s, r) => s + r.failed, 0),
    ms: performance.now() - start
  }
}

export async function loadStats (loads: Child[]): Promise<{ open: number, closed: number, closeCodes: Record<string, number> }> {
  const all = await Promise.all(loads.map((load) => load.call<{ open: number, closed: number, closeCodes: Record<string, number> }>('stats')))
  const closeCodes: Record<string, number> = {}
  for (const s of all) for (const [k, v] of Object.entries(s.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + v
  return { open: all.reduce((s, r) => s + r.open, 0), closed: all.reduce((s, r) => s + r.closed, 0), closeCodes }
}

export async function stopAll (children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop()))
}

/** Rotates `items` by `run` so that no subject always goes first (or last) in a run. */
export function rotate<T> (items: T[], run: number): T[] {
  const k = run % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}
