import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import { resolvePluginOptions, resolveRouteOptions, type FastifyWsHeartbeatOptions, type HeartbeatConfig, type RouteHeartbeatOptions } from './options.js'
import { WsConnectionManager } from './manager.js'
import { registerHealthRoute } from './health.js'
import { createCluster } from './cluster/index.js'

export { FST_ERR_WS_HEARTBEAT_INVALID_OPTION } from './errors.js'
export { WsConnection } from './connection.js'
export { WsConnectionManager } from './manager.js'
export type { WsConnectionManagerEvents, WsConnectionStats, BroadcastOptions, PublishOptions } from './manager.js'
export type { WsCluster, WsClusterStats, WsClusterNode, ClusterOptions, RedisClient, PublishData } from './cluster/index.js'
export type { DrainOptions } from './drain.js'
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

const kRoute = Symbol('fastify-ws-heartbeat.route')

interface RouteState {
  url: string
  config: HeartbeatConfig
}

type UpgradeRequest = IncomingMessage & { [kRoute]?: RouteState }

async function fastifyWsHeartbeat (fastify: FastifyInstance, opts: FastifyWsHeartbeatOptions): Promise<void> {
  const config = resolvePluginOptions(opts)
  const cluster = createCluster(opts.cluster, () => manager, fastify.log)
  const manager = new WsConnectionManager(fastify.log, config.maxConnections, cluster)

  // The plugin owns @fastify/websocket when it registers it: then app.close() drains
  // (close 1001 to every client) instead of @fastify/websocket's bare close.
  const ownsWebsocket = !fastify.hasDecorator('websocketServer')
  if (ownsWebsocket) {
    await fastify.register(websocket, {
      ...opts.websocket,
      preClose: async function () {
        await manager.drain()
        fastify.websocketServer.close()
      }
    })
  } else {
    if (opts.websocket !== undefined) {
      fastify.log.warn('fastify-ws-heartbeat: @fastify/websocket was registered before this plugin; the "websocket" option is ignored')
    }
    fastify.addHook('preClose', (done) => {
      manager._draining = true
      done()
    })
  }

  fastify.decorate('wsConnections', manager)

  fastify.websocketServer.on('connection', (socket: WebSocket, raw: UpgradeRequest) => {
    const route = raw[kRoute]
    // Upgrades to routes without a websocket handler are closed by @fastify/websocket.
    if (route !== undefined) manager._track(socket, route.url, route.config)
  })

  const longIntervals: string[] = []
  if (config.heartbeat.mode !== 'off' && config.heartbeat.interval >= PROXY_IDLE_WARNING_MS) longIntervals.push('plugin')

  fastify.addHook('onRoute', (routeOptions: RouteOptions & { heartbeat?: unknown }) => {
    if (!routeOptions.websocket && !routeOptions.wsHandler) return
    const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method]
    if (methods.every((method) => method === 'HEAD')) return

    const state: RouteState = {
      url: routeOptions.url as string,
      config: resolveRouteOptions(routeOptions.heartbeat, config.heartbeat)
    }
    if (state.config.mode !== 'off' && state.config.interval >= PROXY_IDLE_WARNING_MS) longIntervals.push(state.url)

    // Appended last among the route's preHandler hooks: the upgrade follows synchronously,
    // so the admission decision and the connection it admits see the same counts.
    function admit (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
      if (!request.ws) return done()
      const admission = manager._admission()
      if (admission !== 'ok') {
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

  if (config.healthPath !== null) registerHealthRoute(fastify, config.healthPath, manager)

  fastify.addHook('onReady', (done) => {
    if (longIntervals.length > 0) {
      fastify.log.warn({ routes: longIntervals }, `fastify-ws-heartbeat: heartbeat interval of ${PROXY_IDLE_WARNING_MS / 1000} s or more: common proxies (nginx, AWS ALB) close connections idle for 60 s`)
    }
    cluster?.start()
    done()
  })

  fastify.addHook('onClose', (_instance, done) => {
    manager._shutdown()
    done()
  })

  // preClose, not onClose: onClose hooks run last-registered first, so an application hook
  // that quits the Redis client would run before the departure could be announced.
  if (cluster !== null) fastify.addHook('preClose', () => cluster.stop())
}

const plugin = fp(fastifyWsHeartbeat, { fastify: '5.x', name: 'fastify-ws-heartbeat' })

export default plugin
export { plugin as fastifyWsHeartbeat }

// CommonJS: `require('fastify-ws-heartbeat')` is the plugin itself, like Fastify's own
// plugins, with `.default`, `.fastifyWsHeartbeat` and the other named exports on it.
module.exports = Object.assign(plugin, module.exports)
