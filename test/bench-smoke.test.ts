import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// The benchmark harness in smoke mode: tiny scale, one run, benchmarks at once. It checks
// that every benchmark runs end to end and reports well-formed figures; the figures
// themselves mean nothing at this scale and are not asserted.
const root = join(__dirname, '..')
const BENCHES = ['idle', 'scheduler', 'stall', 'health', 'accept', 'echo', 'memory', 'broadcast', 'cluster', 'scale']

// Compiling the harness and ~30-60 s of smoke runs (scale, 16 fleets, is the longest) on a
// loaded 2-core machine: more than tap's default per-file timeout.
t.setTimeout(240_000)

// Plain node for the harness and its children: no TypeScript loader, no coverage hooks.
function cleanEnv (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key === 'NODE_V8_COVERAGE' || key.startsWith('TAP') || key.startsWith('_TAPJS')) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

function run (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null, out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

interface Figure { figure: string, value: number, unit: string, ratio?: number, target?: string, met?: boolean }

t.test('npm run bench -- --smoke runs every benchmark and writes well-formed results', { timeout: 240_000 }, async (t) => {
  const build = await run([require.resolve('typescript/bin/tsc'), '-p', 'bench/tsconfig.json'])
  t.equal(build.code, 0, build.out)

  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // docs/scale.svg is the full run's chart: a smoke run must leave it as it was.
  const docsChart = join(root, 'docs', 'scale.svg')
  const docsChartBefore = statSync(docsChart, { throwIfNoEntry: false })?.mtimeMs
  const { code, out } = await run([join(root, 'build/bench/run.js'), '--smoke'], { BENCH_RESULTS_DIR: dir })
  t.equal(code, 0, out)
  t.equal(statSync(docsChart, { throwIfNoEntry: false })?.mtimeMs, docsChartBefore, 'the smoke run leaves docs/scale.svg alone')
  const chart = readFileSync(join(dir, 'scale-smoke.svg'), 'utf8')
  t.match(chart, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, 'the scale chart is an SVG document')
  for (const text of ['server CPU per heartbeat (µs)', 'heap per connection (bytes)', 'fastify-ws-heartbeat', 'timer per connection', process.version]) {
    t.ok(chart.includes(text), `the scale chart shows ${text}`)
  }
  t.match(out, /\| figure +\| value +\| baseline \(same run\) +\| ratio +\| target/)

  const summary = JSON.parse(readFileSync(join(dir, 'summary-smoke.json'), 'utf8'))
  t.same(Object.keys(summary.machine).sort(), ['cpus', 'memGiB', 'model', 'node'])
  t.same(summary.results.map((r: { bench: string }) => r.bench), BENCHES)
  for (const result of summary.results as Array<{ bench: string, title: string, figures: Figure[] }>) {
    t.type(result.title, 'string')
    // The cluster benchmark needs Debian's redis-server; a developer's machine may lack it,
    // CI installs it (.ci/run).
    if (result.bench === 'cluster' && result.title.includes('skipped') && process.env.CI !== 'true') {
      t.comment('cluster benchmark skipped: redis-server is not installed')
      continue
    }
    t.ok(result.figures.length > 0, `${result.bench} has figures`)
    for (const f of result.figures) {
      t.type(f.figure, 'string')
      t.type(f.unit, 'string')
      t.ok(Number.isFinite(f.value), `${result.bench}: ${f.figure} = ${f.value}`)
      if (f.ratio !== undefined) t.ok(Number.isFinite(f.ratio) && f.ratio >= 0, `${result.bench}: ${f.figure} ratio ${f.ratio}`)
      if (f.target !== undefined) t.type(f.met, 'boolean')
    }
    const detail = JSON.parse(readFileSync(join(dir, `${result.bench}-smoke.json`), 'utf8'))
    t.ok(Array.isArray(detail.runs) && detail.runs.length > 0, `${result.bench} keeps its raw runs`)
  }
})
