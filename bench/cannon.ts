/** An autocannon process: the HTTP load of benchmark 7, apart from the server and the driver. */
import { config, serve } from './common/proc.js'

interface CannonResult {
  requests: { average: number, total: number }
  latency: { p99: number, average: number }
  non2xx: number
  errors: number
  timeouts: number
}

// autocannon ships no types.
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<CannonResult>

config<Record<string, never>>()

serve({
  async run ({ url, connections, duration }: { url: string, connections: number, duration: number }) {
    const r = await autocannon({ url, connections, duration, pipelining: 1 })
    return { rps: r.requests.average, total: r.requests.total, latencyP99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts }
  }
})
