/**
 * `node build/bench/markdown.js [full|quick|smoke]`: the table of every figure of the
 * last run at that scale (bench/results/summary-<scale>.json), as Markdown for
 * BENCHMARKS.md.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FIGURE_HEADERS, figureRows, resultsDir, table, type BenchResult } from './common/report.js'

const scale = process.argv[2] ?? 'full'
const summary = JSON.parse(readFileSync(join(resultsDir(), `summary-${scale}.json`), 'utf8')) as { machine: Record<string, unknown>, date: string, results: BenchResult[] }
console.log(`Run of ${summary.date}, ${JSON.stringify(summary.machine)}\n`)
for (const result of summary.results) {
  console.log(`### ${result.title}\n`)
  console.log(table(FIGURE_HEADERS, figureRows(result)) + '\n')
}
