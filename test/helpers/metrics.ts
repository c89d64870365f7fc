import type { Registry } from 'prom-client'

type Labels = Record<string, string | number>

/**
 * The value of one series as a registry reports it at scrape time (`getMetricsAsJSON`):
 * `sample` is the metric name with any suffix (`_bucket`, `_sum`, `_count`); 0 when the
 * metric has no such series yet, undefined when the metric is not registered at all.
 */
export async function sample (registry: Registry, sample: string, labels: Labels = {}): Promise<number | undefined> {
  const all = await registry.getMetricsAsJSON()
  const metric = all.find((m) => sample === m.name || (sample.startsWith(m.name + '_') && (m.type as unknown) === 'histogram'))
  if (metric === undefined) return undefined
  const values = (metric as unknown as { values: Array<{ labels: Labels, value: number, metricName?: string }> }).values
  const hit = values.find((v) => (v.metricName ?? metric.name) === sample &&
    Object.entries(labels).every(([k, want]) => String(v.labels[k]) === String(want)))
  return hit === undefined ? 0 : hit.value
}
