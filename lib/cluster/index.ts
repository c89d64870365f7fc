import type { FastifyBaseLogger } from 'fastify'
import { EPOCH } from '../clock.js'
import { Broker } from './redis.js'
import { NodeRegistry, parseAnnouncement } from './registry.js'
import { decode, encode, fromNode, type PublishData } from './codec.js'
import { resolveClusterOptions, type ClusterConfig } from './options.js'
import type { ClusterMetricsSource } from '../metrics/types.js'

export type { ClusterOptions } from './options.js'
export type { RedisClient } from './redis.js'
export { isPublishData, type PublishData } from './codec.js'

/** `app.wsConnections.cluster.stats()`. */
export interface WsClusterStats {
  /** Live nodes, this one included. */
  nodes: number
  /** Connections on every live node: this node's live count plus the others' last announcements. */
  connections: number
  /** The same, per route (URL pattern); only routes with connections. */
  routes: Record<string, number>
  /** `'up'` while Redis answers this node's commands and its subscription is in place. */
  broker: 'up' | 'down'
}

/** One entry of `app.wsConnections.cluster.nodes()`. */
export interface WsClusterNode {
  node: string
  connections: number
  routes: Record<string, number>
  /** Epoch ms at which this node last heard from that node (now, for this node). */
  lastSeen: number
}

/** What the cluster needs from the connection manager. */
export interface ClusterHost {
  localCount (): number
  localRoutes (): Record<string, number>
  /** Delivers a message published on another node, as `broadcast()` does. */
  deliver (data: string | Buffer, route: string | undefined): void
  emit (event: 'nodeUp' | 'nodeDown', node: string): void
  log: FastifyBaseLogger
}

/**
 * The cluster engine: announces this node's counts every `interval` on
 * `<prefix>:nodes`, keeps the others' (lib/cluster/registry.ts), and carries
 * `publish()` on `<prefix>:publish` (lib/cluster/codec.ts) through Redis
 * (lib/cluster/redis.ts).
 */
export class ClusterEngine implements ClusterMetricsSource {
  readonly node: string
  readonly maxConnections: number
  readonly #config: ClusterConfig
  readonly #host: ClusterHost
  readonly #nodeBytes: Buffer
  readonly #announceChannel: string
  readonly #publishChannel: string
  readonly #announceChannelBytes: Buffer
  readonly #publishChannelBytes: Buffer
  readonly #registry: NodeRegistry
  readonly #broker: Broker
  #announcing = false
  #announceSoon = false
  #timer: NodeJS.Timeout | null = null
  #started = false
  #publishErrors = 0

  constructor (config: ClusterConfig, host: ClusterHost) {
    this.#config = config
    this.#host = host
    this.node = config.node
    this.maxConnections = config.maxConnections
    this.#nodeBytes = Buffer.from(config.node)
    this.#announceChannel = `${config.prefix}:nodes`
    this.#publishChannel = `${config.prefix}:publish`
    this.#announceChannelBytes = Buffer.from(this.#announceChannel)
    this.#publishChannelBytes = Buffer.from(this.#publishChannel)
    this.#registry = new NodeRegistry(config.timeout, {
      nodeUp: (node) => {
        host.log.info({ node }, 'fastify-ws-heartbeat: cluster node up')
        host.emit('nodeUp', node)
        // The newcomer learns this node now rather than at its next announcement.
        this.#announceNow()
      },
      nodeDown: (node) => {
        host.log.info({ node }, 'fastify-ws-heartbeat: cluster node down')
        host.emit('nodeDown', node)
      }
    })
    this.#broker = new Broker(config.redis, [this.#announceChannel, this.#publishChannel], config.timeout, host.log, {
      message: this.#onMessage,
      ready: () => this.#announceNow()
    })
  }

  start (): void {
    if (this.#started) return
    this.#started = true
    this.#broker.start()
    this.#announce()
    this.#timer = setInterval(this.#announce, this.#config.interval)
    this.#timer.unref()
  }

  /** Announces the departure (waiting at most `interval` for Redis) and lets go of Redis. */
  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#registry.clear()
    let timer: NodeJS.Timeout | undefined
    const bounded = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.#config.interval) })
    const departure = this.#broker.publish(this.#announceChannel, JSON.stringify({ node: this.node, left: true })).catch(() => {})
    await Promise.race([departure, bounded])
    clearTimeout(timer)
    this.#broker.stop()
  }

  /** Sends to every other node; the caller has delivered on this node already. */
  publish (data: PublishData, route: string | undefined): Promise<void> {
    let message: Buffer
    try {
      message = encode(this.#nodeBytes, route, data)
    } catch (err) {
      this.#publishErrors++
      return Promise.reject(err)
    }
    return this.#broker.publish(this.#publishChannel, message).catch((err: Error) => {
      this.#publishErrors++
      throw err
    })
  }

  /** True while the cluster-wide count is at or over `cluster.maxConnections`. */
  full (): boolean {
    return this.maxConnections !== Infinity && this.connections() >= this.maxConnections
  }

  nodes (): number {
    return 1 + this.#registry.size
  }

  connections (): number {
    return this.#host.localCount() + this.#registry.connections
  }

  brokerUp (): boolean {
    return this.#broker.up
  }

  publishErrors (): number {
    return this.#publishErrors
  }

  stats (): WsClusterStats {
    const routes = this.#host.localRoutes()
    for (const peer of this.#registry.peers()) {
      for (const route in peer.routes) routes[route] = (routes[route] ?? 0) + peer.routes[route]
    }
    return { nodes: this.nodes(), connections: this.connections(), routes, broker: this.#broker.up ? 'up' : 'down' }
  }

  nodeList (): WsClusterNode[] {
    const list: WsClusterNode[] = [{ node: this.node, connections: this.#host.localCount(), routes: this.#host.localRoutes(), lastSeen: Date.now() }]
    for (const peer of this.#registry.peers()) {
      list.push({ node: peer.node, connections: peer.connections, routes: { ...peer.routes }, lastSeen: EPOCH + peer.heardAt })
    }
    return list
  }

  /** The health body's `"cluster":{…}` member. */
  /** The health body's `cluster` block (see lib/health.ts). */
  healthJson (): string {
    return `{"nodes":${this.nodes()},"connections":${this.connections()},"broker":"${this.#broker.up ? 'up' : 'down'}"}`
  }

  // At most one announcement in flight: a frozen Redis must not pile them up.
  readonly #announce = (): void => {
    if (!this.#started || this.#announcing) return
    this.#announcing = true
    const body = JSON.stringify({ node: this.node, connections: this.#host.localCount(), routes: this.#host.localRoutes() })
    this.#broker.publish(this.#announceChannel, body).catch(() => {}).finally(() => { this.#announcing = false })
  }

  #announceNow (): void {
    if (this.#announceSoon) return
    this.#announceSoon = true
    setImmediate(() => {
      this.#announceSoon = false
      this.#announce()
    })
  }

  // Called from the Redis client's parser: nothing may throw out of here.
  readonly #onMessage = (channel: Buffer, message: Buffer): void => {
    try {
      if (channel.equals(this.#publishChannelBytes)) {
        if (fromNode(message, this.#nodeBytes)) return
        const published = decode(message)
        if (published === null) return
        this.#registry.heard(published.node)
        this.#host.deliver(published.data, published.route)
      } else if (channel.equals(this.#announceChannelBytes)) {
        const a = parseAnnouncement(message.toString())
        if (a === null || a.node === this.node) return
        if ('left' in a) this.#registry.left(a.node)
        else this.#registry.announced(a)
      }
    } catch (err) {
      this.#host.log.error({ err }, 'fastify-ws-heartbeat: handling a cluster message failed')
    }
  }
}

/**
 * `app.wsConnections.cluster`: this node's id and the cluster's counts, read without
 * waiting (each other node's last announcement).
 */
export class WsCluster {
  readonly #engine: ClusterEngine

  constructor (engine: ClusterEngine) {
    this.#engine = engine
  }

  /** This instance's id (option `cluster.node`). */
  get node (): string {
    return this.#engine.node
  }

  /** `{ nodes, connections, routes, broker }` over every live node, this one included. */
  stats (): WsClusterStats {
    return this.#engine.stats()
  }

  /** Every live node, this one first: `[{ node, connections, routes, lastSeen }]`. */
  nodes (): WsClusterNode[] {
    return this.#engine.nodeList()
  }
}

/** The public parts of the connection manager the cluster uses. */
export interface ClusterManager {
  readonly size: number
  stats (): { routes: Record<string, number> }
  broadcast (data: string | Buffer, opts: { route?: string }): number
  emit (event: 'nodeUp' | 'nodeDown', node: string): boolean
}

/**
 * Validates the `cluster` option and builds its engine over the manager (read lazily:
 * the manager takes the engine in its constructor). `null` without the option.
 */
export function createCluster (value: unknown, manager: () => ClusterManager, log: FastifyBaseLogger): ClusterEngine | null {
  const config = resolveClusterOptions(value)
  if (config === null) return null
  return new ClusterEngine(config, {
    localCount: () => manager().size,
    localRoutes: () => manager().stats().routes,
    deliver: (data, route) => { manager().broadcast(data, { route }) },
    emit: (event, node) => {
      // A throwing listener is the application's bug; the Redis client's parser must go on.
      try {
        manager().emit(event, node)
      } catch (err) {
        log.error({ err, event }, 'fastify-ws-heartbeat: a wsConnections listener threw')
      }
    },
    log
  })
}
