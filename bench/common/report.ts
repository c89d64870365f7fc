import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { cpus, totalmem } from 'node:os'

/** One figure of a benchmark: a measured value, its baseline in the same run, and its target. */
export interface Figure {
  figure: string
  value: number
  unit: string
  baseline?: string
  baselineValue?: number
  /** Median over the runs of value/baseline, each pair measured in the same run. */
  ratio?: number
  target?: string
  met?: boolean
}

export interface BenchResult {
  bench: string
  title: string
  params: Record<string, unknown>
  figures: Figure[]
  /** Medians per subject (server kind, route, scale), when the benchmark has several. */
  perKind?: Record<string, Record<string, number>>
  /** Every run's raw measurements, for anyone who wants to look past the medians. */
  runs: unknown[]
}

export function median (values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = v.length >> 1
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** Median of the per-run ratios a[i] / b[i]: each pair comes from the same run. */
export function medianRatio (a: number[], b: number[]): number {
  return median(a.map((x, i) => x / b[i]))
}

export function fmt (x: number | undefined, digits = 3): string {
  if (x === undefined || Number.isNaN(x)) return '-'
  if (!Number.isFinite(x)) return String(x)
  if (x !== 0 && Math.abs(x) < 0.001) return x.toExponential(2)
  return Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 3 })
}

export function table (headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ') + ' |'
  return [line(headers), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n')
}

export function figureRows (result: BenchResult): string[][] {
  return result.figures.map((f) => [
    f.figure,
    `${fmt(f.value)} ${f.unit}`,
    f.baseline === undefined ? '-' : `${f.baseline}: ${fmt(f.baselineValue)} ${f.unit}`,
    f.ratio === undefined ? '-' : fmt(f.ratio) + 'x',
    f.target ?? '-',
    f.met === undefined ? '-' : f.met ? 'met' : 'NOT met'
  ])
}

export const FIGURE_HEADERS = ['figure', 'value', 'baseline (same run)', 'ratio', 'target', '']

export function printResult (result: BenchResult): void {
  console.log(`\n## ${result.title}\n`)
  console.log(`params: ${JSON.stringify(result.params)}\n`)
  console.log(table(FIGURE_HEADERS, figureRows(result)))
}

/** bench/results/ of the repository, or BENCH_RESULTS_DIR (the smoke test writes elsewhere). */
export function resultsDir (): string {
  const dir = process.env.BENCH_RESULTS_DIR ?? join(__dirname, '..', '..', '..', 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  return dir
}

export function profilesDir (): string {
  const dir = join(resultsDir(), 'profiles')
  mkdirSync(dir, { recursive: true })
  return dir
}

export function machine (): Record<string, unknown> {
  return { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, memGiB: Math.round(totalmem() / 2 ** 30) }
}
