import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { createMetrics } from '../lib/metrics/index.js'

// The Grafana dashboard and docs/metrics.md must say the same thing: every panel's query
// is one of the documented ones, and every metric the plugin registers is documented.
const root = join(__dirname, '..')
const docs = readFileSync(join(root, 'docs', 'metrics.md'), 'utf8')

interface Panel { title: string, type: string, targets?: Array<{ expr: string }> }

t.test('example/dashboard.json parses and every panel query appears in docs/metrics.md', async (t) => {
  const dashboard = JSON.parse(readFileSync(join(root, 'example', 'dashboard.json'), 'utf8')) as { title: string, panels: Panel[] }
  t.type(dashboard.title, 'string')
  t.ok(dashboard.panels.length >= 5)
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr))
  for (const panel of dashboard.panels) t.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`)
  for (const expr of exprs) t.ok(docs.includes('```promql\n' + expr + '\n```'), `documented: ${expr}`)
  // The four questions of the issue.
  for (const name of ['ws_connections', 'ws_heartbeat_timeouts_total', 'ws_heartbeat_rtt_seconds_bucket', 'ws_connections_rejected_total']) {
    t.ok(exprs.some((e) => new RegExp(`\\b${name}\\b`).test(e)), `a panel uses ${name}`)
  }
  t.ok(exprs.some((e) => e.startsWith('histogram_quantile(0.99,')), 'p99 RTT')
})

t.test('every registered metric is in the docs table, and every query names a real metric', async (t) => {
  const registry = new Registry()
  const metrics = createMetrics({ registry })
  metrics?.cluster({ nodes: () => 1, connections: () => 0, brokerUp: () => true, publishErrors: () => 0 })
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name)
  metrics?.close()
  t.equal(names.length, 15)
  for (const name of names) t.match(docs, new RegExp('\\| `' + name + '` \\|'), `${name} documented`)
  const used = [...docs.matchAll(/```promql\n([^`]+)```/g)].flatMap((m) => [...m[1].matchAll(/\bws_[a-z_]+/g)].map((x) => x[0]))
  t.ok(used.length > 0)
  for (const name of used) t.ok(names.includes(name.replace(/_bucket$/, '')), `${name} exists`)
})
