import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import WebSocket from 'ws'

// The README's first example, run as written (only the port changes): what a new user
// copies first must behave, not only type-check (that is test/consumers/). Its /echo route
// must send text back as text: a browser receives a binary echo as a Blob.
const root = join(__dirname, '..')
const readme = readFileSync(process.env.README_FILE ?? join(root, 'README.md'), 'utf8')

t.setTimeout(30_000)

function exampleProgram (): string {
  const match = /```ts\n([\s\S]*?)```/.exec(readme)
  if (match === null) throw new Error('README.md has no ```ts block')
  const listen = /await app\.listen\(\{ port: 3000 \}\)/
  if (!listen.test(match[1])) throw new Error('the README example no longer ends with app.listen({ port: 3000 })')
  const code = match[1].replace(listen, "await app.listen({ port: 0, host: '127.0.0.1' }); console.log(JSON.stringify(app.server.address()))")
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
  return js
    .replace("from 'fastify-ws-heartbeat'", `from ${JSON.stringify(pathToFileURL(join(root, 'dist', 'index.js')).href)}`)
    .replace("from 'fastify'", `from ${JSON.stringify(pathToFileURL(require.resolve('fastify')).href)}`)
}

t.test("the README's first example echoes text as text and binary as binary", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fwh-readme-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'readme.mjs')
  writeFileSync(file, exampleProgram())

  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.setEncoding('utf8')
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the example exited with ${code}`)))
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      // Fastify's own log lines are JSON too; the address is the line with a port.
      for (const line of out.split('\n')) {
        if (line.startsWith('{"address"')) resolve(JSON.parse(line).port)
      }
    })
  })

  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`)
  t.teardown(() => ws.terminate())
  await once(ws, 'open')
  ws.send('hello')
  const [text, textIsBinary] = await once(ws, 'message')
  t.equal(String(text), 'hello')
  t.equal(textIsBinary, false, 'text comes back as a text frame')
  ws.send(Buffer.from([1, 2, 3]))
  const [binary, binaryIsBinary] = await once(ws, 'message')
  t.same([...(binary as Buffer)], [1, 2, 3])
  t.equal(binaryIsBinary, true, 'binary comes back as a binary frame')
})
