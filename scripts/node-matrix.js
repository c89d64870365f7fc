'use strict'

// `npm run test:node-matrix [-- 22 24] [-- --update]`: the whole `npm test` once per Node.js
// line, one line after another, all from the repository's one install (node_modules is
// plain JavaScript; nothing is rebuilt per line). Each line's `node` goes first on PATH, so
// npm, its scripts, tap and every process they start with `node` or `process.execPath` run
// on it; a probe loaded into every node process proves it. Ends with a summary and exits 1
// if any line failed.
//
//   lines       major versions to run (default: 20 22 24)
//   --update    reinstall the latest release of each registry-installed line first (CI does)
//   --bail      stop at the first failing line
//   NODE_MATRIX_COMMAND   what to run per line instead of `npm test` (a shell command)

const { spawn, execFileSync } = require('node:child_process')
const { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join, resolve } = require('node:path')
const { nodeBinary, versionOf } = require('./node-line.js')

const DEFAULT_LINES = [20, 22, 24]
const root = resolve(__dirname, '..')
const probe = join(__dirname, 'node-probe.js')

function parseArgs (argv) {
  const lines = argv.filter((a) => !a.startsWith('--')).map(Number)
  for (const a of argv) {
    if (a.startsWith('--') && a !== '--update' && a !== '--bail') throw new Error(`unknown flag ${a}`)
  }
  for (const l of lines) if (!Number.isInteger(l) || l <= 0) throw new Error(`node lines are major versions like 22, got ${argv.join(' ')}`)
  return { lines: lines.length > 0 ? lines : DEFAULT_LINES, update: argv.includes('--update'), bail: argv.includes('--bail') }
}

/** A directory holding only `node` → binary: put first on PATH, it shadows every other node. */
function binDir (work, binary) {
  const dir = join(work, 'bin')
  mkdirSync(dir)
  symlinkSync(binary, join(dir, 'node'))
  return dir
}

function envFor (dir, probeLog) {
  return {
    ...process.env,
    PATH: `${dir}:${process.env.PATH}`,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require "${probe}"`.trim(),
    NODE_MATRIX_PROBE: probeLog
  }
}

function run (command, env) {
  return new Promise((resolve) => {
    const child = spawn(command, { cwd: root, env, shell: true, stdio: 'inherit' })
    child.on('close', (code, signal) => resolve(code ?? signal))
  })
}

/** Every node process the probe saw, grouped by version. */
function probed (probeLog) {
  let text = ''
  try { text = readFileSync(probeLog, 'utf8') } catch {}
  const versions = new Map()
  for (const row of text.split('\n').filter(Boolean)) {
    const version = row.split(' ')[0]
    versions.set(version, (versions.get(version) ?? 0) + 1)
  }
  return versions
}

async function main () {
  const { lines, update, bail } = parseArgs(process.argv.slice(2))
  const command = process.env.NODE_MATRIX_COMMAND || 'npm test'
  const results = []
  for (const line of lines) {
    const row = { line, version: '-', result: 'not run', seconds: 0, processes: '-' }
    results.push(row)
    const started = Date.now()
    let work
    try {
      const binary = nodeBinary(line, { update })
      // Per run, so that two matrix runs at once (two checkouts) never share a PATH or a log.
      work = mkdtempSync(join(tmpdir(), `node-matrix-${line}-`))
      const probeLog = join(work, 'probe.log')
      const env = envFor(binDir(work, binary), probeLog)
      // What npm's scripts will find on PATH, asked the way they ask.
      row.version = execFileSync('node', ['--version'], { env: { ...env, NODE_OPTIONS: '' }, encoding: 'utf8' }).trim()
      if (row.version !== versionOf(binary)) throw new Error(`PATH gives node ${row.version}, expected ${versionOf(binary)}`)
      console.log(`\n=== Node.js ${row.version} (${binary}): ${command}\n`)
      const status = await run(command, env)
      const seen = probed(probeLog)
      const stray = [...seen.keys()].filter((v) => v !== row.version)
      row.processes = [...seen].map(([v, n]) => `${n} on ${v}`).join(', ') || 'none'
      if (status !== 0) row.result = `FAILED (${command} exited ${status})`
      else if (seen.size === 0) row.result = 'FAILED (the probe saw no node process)'
      else if (stray.length > 0) row.result = `FAILED (node processes ran on ${stray.join(', ')})`
      else row.result = 'passed'
    } catch (err) {
      row.result = `FAILED (${err.message})`
    } finally {
      if (work !== undefined) rmSync(work, { recursive: true, force: true })
    }
    row.seconds = Math.round((Date.now() - started) / 1000)
    if (bail && row.result !== 'passed') break
  }
  console.log('\n=== Node.js matrix: ' + command)
  for (const r of results) {
    console.log(`  ${String(r.line).padEnd(3)} ${r.version.padEnd(9)} ${r.result.padEnd(8)} ${String(r.seconds).padStart(5)} s   node processes: ${r.processes}`)
  }
  const failed = results.filter((r) => r.result !== 'passed')
  if (failed.length > 0 || results.length < lines.length) {
    console.log(`\nfailed on Node.js ${failed.map((r) => r.line).join(', ')}`)
    process.exitCode = 1
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`node-matrix: ${err.message}`)
    process.exitCode = 1
  })
}
