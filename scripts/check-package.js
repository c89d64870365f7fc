'use strict'

// `npm run test:package`: the package as a user gets it. A copy of the working tree as a
// fresh clone has it (tracked and new files, no dist/) is packed, which runs `prepare`; the
// tarball must hold a built package, its LICENSE, and source maps whose sources it ships.
// Then the projects in test/consumers/ are type-checked against it and attw inspects it.
// Offline: the tarball is unpacked by hand, and every package the consumers need is a
// symlink into this repository's node_modules, so nothing is fetched at run time.

const { execFileSync, execFile } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { promisify } = require('node:util')

const root = path.resolve(__dirname, '..')
const run = promisify(execFile)
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const attw = path.join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')
const failures = []

const t0 = Date.now()
function check (ok, message) {
  message += ` (${((Date.now() - t0) / 1000).toFixed(1)} s)`
  if (ok) console.log(`ok      ${message}`)
  else { console.log(`not ok  ${message}`); failures.push(message) }
}

function copyWorkingTree (dest) {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0').filter(Boolean)
  for (const file of files) {
    const from = path.join(root, file)
    if (!fs.existsSync(from)) continue // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dest, file)), { recursive: true })
    fs.copyFileSync(from, path.join(dest, file))
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dest, 'node_modules'), 'dir')
}

function pack (src, dest) {
  // npm's own lifecycle variables would tell the nested npm it runs inside `npm test`.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')))
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: src, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const [info] = JSON.parse(out.slice(out.indexOf('[')))
  return { tarball: path.join(dest, info.filename), files: info.files.map((f) => f.path) }
}

function checkContents (files, pkgDir) {
  for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/client/index.js',
    'dist/client/index.d.ts', 'dist/esm/package.json', 'dist/esm/client/browser.js', 'dist/esm/client/browser.d.ts']) {
    check(files.includes(file), `the tarball ships ${file}`)
  }
  const license = fs.readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8')
  check(/^MIT License/.test(license) && license.includes('2026 fastify-ws-heartbeat contributors'), 'LICENSE is MIT, 2026 fastify-ws-heartbeat contributors')
  const missing = []
  for (const file of files.filter((f) => f.endsWith('.map'))) {
    const map = JSON.parse(fs.readFileSync(path.join(pkgDir, file), 'utf8'))
    for (const source of map.sources) {
      const resolved = path.resolve(path.dirname(path.join(pkgDir, file)), map.sourceRoot ?? '', source)
      if (!resolved.startsWith(pkgDir + path.sep) || !fs.existsSync(resolved)) missing.push(`${file} -> ${source}`)
    }
  }
  check(missing.length === 0, `every source map points at a shipped source${missing.length > 0 ? ': ' + missing.slice(0, 3).join(', ') : ''}`)
}

// What `npm i fastify-ws-heartbeat fastify typescript @types/node` would put in node_modules:
// the package's own dependencies come from ITS package.json, so a type package it forgets
// to depend on is missing here as it would be for a user.
function installConsumerModules (tarball, modules) {
  const pkgDir = path.join(modules, 'fastify-ws-heartbeat')
  fs.mkdirSync(pkgDir, { recursive: true })
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'])
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
  const names = new Set([...Object.keys(pkg.dependencies ?? {}), 'fastify', 'typescript', '@types/node'])
  for (const name of names) {
    const link = path.join(modules, name)
    fs.mkdirSync(path.dirname(link), { recursive: true })
    fs.symlinkSync(path.join(root, 'node_modules', name), link, 'dir')
  }
  return pkgDir
}

// The README's first TypeScript block, as written: what a new user copies first.
function readmeExample () {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const match = /```ts\n([\s\S]*?)```/.exec(readme)
  if (match === null) throw new Error('README.md has no ```ts block')
  return match[1]
}

function asCommonJs (code) {
  const lines = code.split('\n')
  const imports = lines.filter((line) => line.startsWith('import '))
  const body = lines.filter((line) => !line.startsWith('import '))
  return [...imports, 'export async function readme (): Promise<void> {', ...body.map((l) => l && '  ' + l), '}', ''].join('\n')
}

async function typeCheck (dir, name) {
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', dir, '--listFiles'], { cwd: dir })
    return { ok: true, output: stdout }
  } catch (err) {
    return { ok: false, output: `${err.stdout}${err.stderr}` }
  }
}

async function main () {
  const started = Date.now()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fwh-package-'))
  try {
    const src = path.join(tmp, 'clone')
    copyWorkingTree(src)
    const { tarball, files } = pack(src, tmp)
    check(true, `packed a fresh copy: ${path.basename(tarball)}, ${files.length} files`)

    const consumers = path.join(tmp, 'consumers')
    const pkgDir = installConsumerModules(tarball, path.join(consumers, 'node_modules'))
    checkContents(files, pkgDir)

    const example = readmeExample()
    const names = fs.readdirSync(path.join(root, 'test', 'consumers'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
    for (const name of names) {
      fs.cpSync(path.join(root, 'test', 'consumers', name), path.join(consumers, name), { recursive: true })
      if (name !== 'dom') fs.writeFileSync(path.join(consumers, name, 'readme.ts'), name.startsWith('cjs') ? asCommonJs(example) : example)
    }
    const results = await Promise.all(names.map((name) => typeCheck(path.join(consumers, name), name)))
    names.forEach((name, i) => {
      const { ok, output } = results[i]
      const errors = output.split('\n').filter((line) => /error TS\d+/.test(line))
      check(ok, `consumer ${name} type-checks${ok ? '' : ':\n        ' + errors.slice(0, 8).join('\n        ')}`)
      if (name === 'dom') {
        const nodeTypes = output.split('\n').filter((line) => line.includes('@types/node'))
        check(ok && nodeTypes.length === 0, 'consumer dom loads no @types/node (no Buffer reachable from the browser types)' +
          (nodeTypes.length > 0 ? `: ${nodeTypes[0]}` : ''))
      }
    })

    try {
      await run(process.execPath, [attw, tarball, '--no-definitely-typed', '--format', 'ascii'], { cwd: tmp })
      check(true, 'attw finds no problem')
    } catch (err) {
      check(false, `attw:\n${err.stdout}${err.stderr}`)
    }
  } finally {
    if (process.env.KEEP_PACKAGE_CHECK) console.log(`kept ${tmp}`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  }
  console.log(`${failures.length === 0 ? 'package checks passed' : `${failures.length} package check(s) failed`} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  process.exitCode = failures.length === 0 ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
