/**
 * The scale-curve chart of bench/scale.ts: two panels, server CPU per heartbeat and heap per
 * connection against the number of connections, one line per server, rendered to SVG in
 * this process (vega's headless renderer: no canvas, no browser, nothing fetched).
 */

/** One point of the curve: medians of one server at one size. */
export interface ScaleChartPoint {
  connections: number
  /** Server label, as the legend shows it. */
  server: string
  /** Server CPU per connection-heartbeat, µs. */
  usPerHeartbeat: number
  /** Heap per connection after gc(), bytes; null where it was not measured. */
  heapPerConn: number | null
}

export interface ScaleChartMeta {
  title: string
  /** ISO date of the run. */
  date: string
  /** bench/common/report.ts `machine()`. */
  machine: Record<string, unknown>
  /** Extra subtitle lines (what was left out, and why). */
  notes?: string[]
}

/**
 * @returns the chart as a standalone SVG document
 * @throws {Error} when `points` is empty
 */
export async function scaleChartSvg (points: ScaleChartPoint[], meta: ScaleChartMeta): Promise<string> {
  if (points.length === 0) throw new Error('scaleChartSvg: no points')
  // Both packages are ES modules only; this harness compiles to CommonJS.
  const vega = await import('vega')
  const vegaLite = await import('vega-lite')
  const sizes = [...new Set(points.map((p) => p.connections))].sort((a, b) => a - b)
  const m = meta.machine
  const x = { field: 'connections', type: 'quantitative', title: 'connections', axis: { values: sizes, format: ',d' } } as const
  // Legend in the order the benchmark ran the servers (the plugin first), not alphabetical.
  const servers = [...new Set(points.map((p) => p.server))]
  const color = { field: 'server', type: 'nominal', title: 'server', scale: { domain: servers }, legend: { labelLimit: 400 } } as const
  const panel = (field: 'usPerHeartbeat' | 'heapPerConn', title: string, unit: string, values: ScaleChartPoint[]): any => ({
    title,
    width: 380,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: { field, type: 'quantitative', title: unit, scale: { zero: true } },
      color,
      tooltip: [{ field: 'server' }, { field: 'connections' }, { field, format: '.3~r' }]
    }
  })
  const spec: Parameters<typeof vegaLite.compile>[0] = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: meta.title,
      subtitle: [
        `${meta.date.slice(0, 16).replace('T', ' ')} UTC, Node ${String(m.node)}, ${String(m.cpus)} × ${String(m.model)}, ${String(m.memGiB)} GiB`,
        ...(meta.notes ?? [])
      ],
      anchor: 'start'
    },
    background: 'white',
    padding: 12,
    hconcat: [
      panel('usPerHeartbeat', 'server CPU per heartbeat (µs)', 'µs', points),
      panel('heapPerConn', 'heap per connection (bytes)', 'bytes', points.filter((p) => p.heapPerConn !== null))
    ],
    resolve: { scale: { color: 'shared' } }
  }
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
