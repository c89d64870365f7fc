import type { FastifyInstance } from 'fastify'
import type { WsConnectionManager } from './manager.js'

/**
 * `GET`/`HEAD <path>` for load balancers: 200 `ok` while this instance takes websocket
 * connections, 503 `draining` or `full` when it should get no new ones. The body comes
 * from counters kept by the manager (no walk over connections per request), and never
 * names a peer.
 */
export function registerHealthRoute (fastify: FastifyInstance, path: string, manager: WsConnectionManager): void {
  fastify.route({
    method: ['GET', 'HEAD'],
    url: path,
    handler (_request, reply) {
      const status = manager._admission()
      reply
        .code(status === 'ok' ? 200 : 503)
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(manager._healthBody(status))
    }
  })
}
