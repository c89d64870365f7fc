import { clock } from '../clock.js'

/** What one node last announced: its live connections, per route. */
export interface Announcement {
  node: string
  connections: number
  routes: Record<string, number>
}

interface Peer extends Announcement {
  /** When this node last heard from the peer, on the plugin's clock (lib/clock.ts). */
  heardAt: number
}

export interface RegistryEvents {
  nodeUp (node: string): void
  nodeDown (node: string): void
}

// A check phase that runs this late after it was queued ran behind a stalled poll phase:
// announcements may have queued up again behind it, so one more turn reads them first.
const STALL_MS = 50
const MAX_HOPS = 2

function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * Parses an announcement from the wire: `{ node, connections, routes }`, or
 * `{ node, left: true }` for a departure. Anything else is `null` (another program or
 * version on the same channel must not break this one).
 */
export function parseAnnouncement (text: string): Announcement | { node: string, left: true } | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const { node, connections, routes, left } = value as Record<string, unknown>
  if (typeof node !== 'string' || node.length === 0) return null
  if (left === true) return { node, left: true }
  if (!isCount(connections) || typeof routes !== 'object' || routes === null || Array.isArray(routes)) return null
  const counts: Record<string, number> = {}
  for (const [route, n] of Object.entries(routes)) {
    if (!isCount(n)) return null
    counts[route] = n
  }
  return { node, connections, routes: counts }
}

/**
 * The other live nodes, from their announcements: a node not heard from for `timeout`
 * ms is dead. One timer, armed at the earliest possible expiry; the expiry itself runs
 * in the check phase, after the poll phase has read announcements that arrived while
 * this process was stalled, so a stall here does not kill live peers.
 */
export class NodeRegistry {
  readonly #timeout: number
  readonly #events: RegistryEvents
  readonly #peers = new Map<string, Peer>()
  #total = 0
  #timer: NodeJS.Timeout | null = null
  #sweepQueued = false
  #queuedAt = 0
  #hops = 0

  constructor (timeout: number, events: RegistryEvents) {
    this.#timeout = timeout
    this.#events = events
  }

  /** Other live nodes. */
  get size (): number {
    return this.#peers.size
  }

  /** Connections on the other live nodes, as last announced. */
  get connections (): number {
    return this.#total
  }

  peers (): IterableIterator<Peer> {
    return this.#peers.values()
  }

  announced (a: Announcement): void {
    const now = clock()
    const peer = this.#peers.get(a.node)
    if (peer === undefined) {
      this.#peers.set(a.node, { node: a.node, connections: a.connections, routes: a.routes, heardAt: now })
      this.#total += a.connections
      if (this.#timer === null && !this.#sweepQueued) this.#arm(this.#timeout)
      this.#events.nodeUp(a.node)
      return
    }
    this.#total += a.connections - peer.connections
    peer.connections = a.connections
    peer.routes = a.routes
    peer.heardAt = now
  }

  /** Any message from a known node proves it alive. */
  heard (node: string): void {
    const peer = this.#peers.get(node)
    if (peer !== undefined) peer.heardAt = clock()
  }

  left (node: string): void {
    if (this.#remove(node)) this.#events.nodeDown(node)
  }

  /** Forgets every node silently (this app is closing). */
  clear (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#peers.clear()
    this.#total = 0
  }

  #remove (node: string): boolean {
    const peer = this.#peers.get(node)
    if (peer === undefined) return false
    this.#peers.delete(node)
    this.#total -= peer.connections
    return true
  }

  #arm (ms: number): void {
    this.#timer = setTimeout(this.#onTimer, Math.max(1, ms))
    this.#timer.unref()
  }

  readonly #onTimer = (): void => {
    this.#timer = null
    this.#sweepQueued = true
    this.#queuedAt = clock()
    this.#hops = 0
    setImmediate(this.#sweep)
  }

  readonly #sweep = (): void => {
    const now = clock()
    if (now - this.#queuedAt > STALL_MS && this.#hops < MAX_HOPS) {
      this.#hops++
      this.#queuedAt = now
      setImmediate(this.#sweep)
      return
    }
    this.#sweepQueued = false
    let earliest = Infinity
    const dead: string[] = []
    for (const peer of this.#peers.values()) {
      if (now - peer.heardAt >= this.#timeout) dead.push(peer.node)
      else if (peer.heardAt < earliest) earliest = peer.heardAt
    }
    for (const node of dead) {
      this.#remove(node)
      this.#events.nodeDown(node)
    }
    if (earliest !== Infinity && this.#timer === null) this.#arm(earliest + this.#timeout - now)
  }
}
