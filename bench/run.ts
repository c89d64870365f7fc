/**
 * `npm run bench [-- flags]`: runs the benchmarks of issue 6 in priority order, prints a
 * table per benchmark and writes JSON to bench/results/.
 *
 *   --quick            a few minutes: 2 000 connections, shorter windows
 *   --smoke            seconds: 200 connections, one run (what test/bench-smoke runs)
 *   --only=a,b         some of: idle, scheduler, stall, health, accept, echo, memory, broadcast,
 *                      cluster (needs redis-server; skipped with a message without it), scale
 *   --runs=N           runs per figure (median of N; default 3; broadcast: rounds, default 15;
 *                      cluster: runs of both servers, default 3)
 *   --connections=N    connections for idle, health, accept, memory (default 10 000), broadcast (default 5 000 and 10 000),
 *                      scale (one point instead of the curve 1 000, 5 000, 10 000, 18 000)
 *   --duration=S       measuring window in seconds for idle, echo, scale (default 30, 10, 10)
 *   --interval=MS      heartbeat interval of idle, stall and scale (default 1 000)
 *   --kinds=a,b        servers compared by idle, echo and scale, e.g. plugin,metrics (metrics on vs off)
 *   --soak=S           memory soak: sample heap and RSS for S seconds (default off)
 *   --profile          CPU profiles of idle's servers and of the stub scheduler (bench/results/profiles)
 *   --parallel         run the benchmarks at once (default with --smoke: figures mean nothing then)
 *   --node=N           run under Node.js line N (20, 22, 24…): the machine's node when it is that
 *                      line, else the latest N from the npm registry (scripts/node-line.js, cached)
 * Every flag also reads from the environment: BENCH_QUICK=1, BENCH_ONLY=idle, BENCH_RUNS=1, …
 * BENCH_RESULTS_DIR moves the JSON results (default bench/results/).
 */
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { machine, printResult, resultsDir, type BenchResult } from './common/report.js'
import { presets, type Scale } from './common/scale.js'

export const BENCHES = ['idle', 'scheduler', 'stall', 'health', 'accept', 'echo', 'memory', 'broadcast', 'cluster', 'scale'] as const
export type BenchName = typeof BENCHES[number]
const SERVER_KINDS: readonly string[] = ['plugin', 'metrics', 'plain', 'sweep', 'timer', 'socketio']

export interface Flags {
  scale: Scale
  only: BenchName[]
  runs?: number
  connections?: number
  duration?: number
  interval?: number
  kinds?: string[]
  soak?: number
  profile: boolean
  parallel: boolean
  /** Node.js major line to run under; undefined: the node running this file. */
  node?: number
}

export function parseFlags (argv: string[], env: NodeJS.ProcessEnv = process.env): Flags {
  const values = new Map<string, string>()
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('BENCH_') && value !== undefined) values.set(key.slice(6).toLowerCase(), value)
  }
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (m === null) throw new Error(`unknown argument ${arg}`)
    values.set(m[1], m[2] ?? '1')
  }
  const num = (key: string): number | undefined => {
    const v = values.get(key)
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${key} must be a number, got ${v}`)
    return n
  }
  const on = (key: string): boolean => values.has(key) && values.get(key) !== '0' && values.get(key) !== 'false'
  const only = (values.get('only') ?? BENCHES.join(',')).split(',').map((s) => s.trim()).filter(Boolean)
  for (const name of only) if (!(BENCHES as readonly string[]).includes(name)) throw new Error(`unknown benchmark ${name} (one of ${BENCHES.join(', ')})`)
  const node = num('node')
  if (node !== undefined && (!Number.isInteger(node) || node < 20)) throw new Error(`--node must be a Node.js major line >= 20, like 22, got ${values.get('node')}`)
  const kinds = values.get('kinds')?.split(',').map((s) => s.trim()).filter(Boolean)
  for (const kind of kinds ?? []) if (!SERVER_KINDS.includes(kind)) throw new Error(`unknown server kind ${kind} (one of ${SERVER_KINDS.join(', ')})`)
  return {
    scale: on('smoke') ? 'smoke' : on('quick') ? 'quick' : 'full',
    only: BENCHES.filter((b) => only.includes(b)),
    runs: num('runs'),
    connections: num('connections'),
    duration: num('duration'),
    interval: num('interval'),
    kinds,
    soak: num('soak'),
    profile: on('profile'),
    parallel: values.has('parallel') ? on('parallel') : on('smoke'),
    node
  }
}

export async function runBenchmarks (flags: Flags, log: (line: string) => void = console.log): Promise<BenchResult[]> {
  const p = presets(flags)
  async function one (name: BenchName): Promise<BenchResult> {
    const started = Date.now()
    log(`\n# ${name} (${flags.scale})`)
    const mod = await import(`./${name}.js`) as { run: (options: unknown, log: (line: string) => void) => Promise<BenchResult> }
    const result = await mod.run(p[name], log)
    if (!flags.parallel) printResult(result)
    writeResult(result, flags.scale)
    log(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s)`)
    return result
  }
  const results: BenchResult[] = []
  if (flags.parallel) {
    results.push(...await Promise.all(flags.only.map(one)))
    for (const result of results) printResult(result)
  } else {
    for (const name of flags.only) results.push(await one(name))
  }
  const file = join(resultsDir(), `summary-${flags.scale}.json`)
  writeFileSync(file, JSON.stringify({ machine: machine(), date: new Date().toISOString(), flags, results: results.map(({ runs, ...r }) => r) }, null, 2) + '\n')
  log(`\nresults: ${resultsDir()}`)
  return results
}

/** Writes `result` to <results>/<bench>-<scale>.json, with the machine and the date. */
export function writeResult (result: BenchResult, scale: Scale): void {
  writeFileSync(join(resultsDir(), `${result.bench}-${scale}.json`), JSON.stringify({ ...result, machine: machine(), date: new Date().toISOString() }, null, 2) + '\n')
}

/**
 * Runs this harness again, same arguments, under Node.js `line`; resolves to its exit code.
 * Its node goes first on PATH and every benchmark process is forked from `process.execPath`,
 * so servers, clients and baselines all run on that line.
 * @throws {Error} when no binary of that line can be had (offline and nothing cached)
 */
export function rerunUnder (line: number, argv: string[]): Promise<number> {
  const binary = execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'node-line.js'), String(line)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()
  const env = { ...process.env, PATH: `${dirname(binary)}:${process.env.PATH ?? ''}` }
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...process.execArgv, __filename, ...argv], { env, stdio: 'inherit' })
    child.on('error', reject)
    child.on('close', (code) => resolve(code ?? 1))
  })
}

function onLine (line: number | undefined): boolean {
  return line === undefined || Number(process.versions.node.split('.')[0]) === line
}

if (require.main === module) {
  const argv = process.argv.slice(2)
  const done = (err: unknown): void => {
    console.error(err)
    process.exit(1)
  }
  const flags = parseFlags(argv)
  // scripts/node-line.js checks the binary's version, so the rerun is on the line: no loop.
  if (onLine(flags.node)) runBenchmarks(flags).then(() => process.exit(0), done)
  else rerunUnder(flags.node as number, argv).then((code) => process.exit(code), done)
}
