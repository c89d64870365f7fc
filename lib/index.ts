import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { WebSocket } from 'ws'
import { resolvePluginOptions, resolveRouteOptions, type FastifyWsHeartbeatOptions, type RouteHeartbeatOptions } from './options.js'
import { WsConnectionManager, internalsOf } from './manager.js'
import { registerHealthRoute } from './health.js'
import { FST_ERR_WS_HEARTBEAT_REGISTRATION_ORDER } from './errors.js'
import { createMetrics } from './metrics/index.js'
import type { TrackedRoute } from './connection.js'
import { createCluster } from './cluster/index.js'

export { FST_ERR_WS_HEARTBEAT_INVALID_OPTION, FST_ERR_WS_HEARTBEAT_REGISTRATION_ORDER } from './errors.js'
export { WsConnection } from './connection.js'
export { WsConnectionManager } from './manager.js'
export type { WsConnectionManagerEvents, WsConnectionStats, BroadcastOptions, PublishOptions } from './manager.js'
export { WsCluster } from './cluster/index.js'
export type { WsClusterStats, WsClusterNode, ClusterOptions, RedisClient, PublishData } from './cluster/index.js'
export type { DrainOptions } from './drain.js'
export type { MetricsOptions, MetricsRegistry } from './metrics/types.js'
export type { FastifyWsHeartbeatOptions, RouteHeartbeatOptions, JsonHeartbeatOptions, HealthOptions, HeartbeatMode } from './options.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Every live websocket connection: counts, iteration, broadcast, events, drain. */
    wsConnections: WsConnectionManager
  }
  interface RouteShorthandOptions {
    /** Heartbeat of this websocket route: `false` for none, or values over the plugin's. */
    heartbeat?: boolean | RouteHeartbeatOptions
  }
}

/** Proxies such as nginx and AWS ALB close connections idle for 60 s. */
const PROXY_IDLE_WARNING_MS = 55_000
// A full or draining instance asks clients to come back after this many seconds; behind a
// load balancer the retry lands on another instance anyway.
const RETRY_AFTER_FULL = 5
const RETRY_AFTER_DRAINING = 1
// Paths named in "declared before the plugin" warnings: a route with parameters must not
// grow this set without bound.
const MAX_UNTRACKED_WARNINGS = 20

const kRoute = Symbol('fastify-ws-heartbeat.route')

type UpgradeRequest = IncomingMessage & { [kRoute]?: TrackedRoute }

async function fastifyWsHeartbeat (fastify: FastifyInstance, opts: FastifyWsHeartbeatOptions): Promise<void> {
  const config = resolvePluginOptions(opts)
  const metrics = createMetrics(opts.metrics)
  if (metrics !== null) fastify.addHook('onClose', (_instance, done) => { metrics.close(); done() })
  const cluster = createCluster(opts.cluster, () => manager, fastify.log)
  const manager = new WsConnectionManager(fastify.log, {
    maxConnections: config.maxConnections,
    maxBackpressure: config.maxBackpressure,
    closeOnBackpressureLimit: config.closeOnBackpressureLimit,
    observer: metrics ?? undefined,
    cluster: cluster ?? undefined
  }, cluster)
  const host = internalsOf(manager)
  metrics?.watch(manager)
  if (metrics !== null && cluster !== null) metrics.cluster(cluster)

  // The plugin owns @fastify/websocket when it registers it: then app.close() drains
  // (close 1001 to every client) instead of @fastify/websocket's bare close.
  const ownsWebsocket = !fastify.hasDecorator('websocketServer')
  if (ownsWebsocket) {
    await fastify.register(websocket, {
      ...opts.websocket,
      preClose: async function () {
        await host.drain()
        fastify.websocketServer.close()
      }
    })
    refuseSecondWebsocket(fastify)
  } else {
    if (opts.websocket !== undefined) {
      fastify.log.warn('fastify-ws-heartbeat: @fastify/websocket was registered before this plugin; the "websocket" option is ignored')
    }
    fastify.addHook('preClose', (done) => {
      host.markDraining()
      done()
    })
  }

  fastify.decorate('wsConnections', manager)

  const warnedPaths = new Set<string>()
  fastify.websocketServer.on('connection', (socket: WebSocket, raw: UpgradeRequest) => {
    const route = raw[kRoute]
    if (route !== undefined) {
      host.track(socket, route)
      return
    }
    // No route state: either a route without a websocket handler (@fastify/websocket
    // closes those synchronously, right after this event) or a websocket route this
    // plugin never saw, because it was declared before the plugin was registered.
    queueMicrotask(() => {
      const path = (raw.url ?? '').split('?')[0]
      if (socket.readyState !== WebSocket.OPEN || warnedPaths.has(path) || warnedPaths.size >= MAX_UNTRACKED_WARNINGS) return
      warnedPaths.add(path)
      fastify.log.warn({ path }, `fastify-ws-heartbeat: the websocket route serving ${path} was declared before fastify-ws-heartbeat was registered: its connections are not tracked, counted or heartbeated; register the plugin before declaring websocket routes`)
    })
  })

  const longIntervals: string[] = []
  if (config.heartbeat.mode !== 'off' && config.heartbeat.interval >= PROXY_IDLE_WARNING_MS) longIntervals.push('plugin')

  fastify.addHook('onRoute', (routeOptions: RouteOptions & { heartbeat?: unknown }) => {
    if (!routeOptions.websocket && !routeOptions.wsHandler) return
    const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method]
    if (methods.every((method) => method === 'HEAD')) return

    // The observer is asked here, at the declaration: the route's series exist (at 0)
    // before its first connection.
    const state: TrackedRoute = host.route(routeOptions.url as string, resolveRouteOptions(routeOptions.heartbeat, config.heartbeat))
    if (state.config.mode !== 'off' && state.config.interval >= PROXY_IDLE_WARNING_MS) longIntervals.push(state.url)

    // Appended last among the route's preHandler hooks: the upgrade follows synchronously,
    // so the admission decision and the connection it admits see the same counts.
    function admit (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
      if (!request.ws) return done()
      const admission = host.admission()
      if (admission !== 'ok') {
        host.observer?.upgradeRejected(state.url, admission)
        reply
          .code(503)
          .header('retry-after', String(admission === 'full' ? RETRY_AFTER_FULL : RETRY_AFTER_DRAINING))
          .send({ statusCode: 503, error: 'Service Unavailable', message: `websocket connections are not accepted: ${admission}` })
        return
      }
      (request.raw as UpgradeRequest)[kRoute] = state
      done()
    }
    const existing = routeOptions.preHandler
    routeOptions.preHandler = existing === undefined ? [admit] : [...(Array.isArray(existing) ? existing : [existing]), admit]
  })

  if (config.healthPath !== null) {
    registerHealthRoute(fastify, config.healthPath, host, cluster === null ? [] : [{ name: 'cluster', json: () => cluster.healthJson() }])
  }

  fastify.addHook('onReady', (done) => {
    if (longIntervals.length > 0) {
      fastify.log.warn({ routes: longIntervals }, `fastify-ws-heartbeat: heartbeat interval of ${PROXY_IDLE_WARNING_MS / 1000} s or more: common proxies (nginx, AWS ALB) close connections idle for 60 s`)
    }
    cluster?.start()
    done()
  })

  fastify.addHook('onClose', (_instance, done) => {
    host.shutdown()
    done()
  })

  // preClose, not onClose: onClose hooks run last-registered first, so an application hook
  // that quits the Redis client would run before the departure could be announced.
  if (cluster !== null) fastify.addHook('preClose', () => cluster.stop())
}

const kPluginMeta = Symbol.for('plugin-meta')

// Registered in place of a second @fastify/websocket: its registration fails with this
// error (a throw inside @fastify/websocket itself would be an uncaught exception).
const websocketAfterHeartbeat = fp((_fastify, _opts, next) => { next(new FST_ERR_WS_HEARTBEAT_REGISTRATION_ORDER()) }, {
  name: 'fastify-ws-heartbeat-registration-order'
})

/**
 * `app.register(@fastify/websocket)` after this plugin registered it would fail with a
 * generic "decorator already added", thrown where nothing can catch it; instead the
 * registration rejects with an error that says what to do.
 */
function refuseSecondWebsocket (fastify: FastifyInstance): void {
  const register = fastify.register
  fastify.register = function (this: FastifyInstance, plugin: unknown, ...rest: unknown[]) {
    const fn = (plugin as { default?: unknown } | null)?.default ?? plugin
    if ((fn as { [kPluginMeta]?: { name?: string } } | null)?.[kPluginMeta]?.name === '@fastify/websocket') plugin = websocketAfterHeartbeat
    return (register as (...args: unknown[]) => unknown).call(this, plugin, ...rest)
  } as FastifyInstance['register']
}

const plugin = fp(fastifyWsHeartbeat, { fastify: '5.x', name: 'fastify-ws-heartbeat' })

export default plugin
export { plugin as fastifyWsHeartbeat }

// CommonJS: `require('fastify-ws-heartbeat')` is the plugin itself, like Fastify's own
// plugins, with `.default`, `.fastifyWsHeartbeat` and the other named exports on it.
module.exports = Object.assign(plugin, module.exports)
