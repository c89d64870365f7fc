import type { FastifyInstance } from 'fastify'
import type { Admission } from './lifecycle.js'

/** What the health endpoint reads: numbers kept up to date, never a walk over connections. */
export interface HealthHost {
  admission (): Admission
  /** `"connections":n,"routes":{...}`. */
  countsJson (): string
}

/** An extra top-level field of the health body, e.g. a `cluster` block: its name and a JSON value. */
export interface HealthBlock {
  name: string
  json (): string
}

/**
 * `GET`/`HEAD <path>` for load balancers: 200 `ok` while this instance takes websocket
 * connections, 503 `draining` or `full` when it should get no new ones. The body never
 * names a peer.
 */
export function registerHealthRoute (fastify: FastifyInstance, path: string, host: HealthHost, blocks: readonly HealthBlock[] = []): void {
  fastify.route({
    method: ['GET', 'HEAD'],
    url: path,
    handler (_request, reply) {
      const status = host.admission()
      let body = `{"status":"${status}",${host.countsJson()}`
      for (const block of blocks) body += `,${JSON.stringify(block.name)}:${block.json()}`
      reply
        .code(status === 'ok' ? 200 : 503)
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(body + '}')
    }
  })
}
