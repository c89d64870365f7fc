// `npm run client -- ws://localhost:3000/chat`: every line typed at the `> ` prompt is sent,
// every message received is printed after `< ` (stdout); heartbeat round-trip times and
// reconnects are reported on stderr in [brackets]. Restart the server and watch the client
// come back on its own; Ctrl-C closes it.
// HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT (ms) and HEARTBEAT_MODE (json | frame | off) tune it.
import { clearLine, createInterface, cursorTo } from 'node:readline'
import { HeartbeatClient, type HeartbeatMode } from 'fastify-ws-heartbeat/client'

const url = process.argv[2] ?? 'ws://localhost:3000/chat'
const env = process.env

function numberFromEnv (name: string): number | undefined {
  const value = env[name]
  return value === undefined || value === '' ? undefined : Number(value)
}

let closing = false
const tty = process.stdin.isTTY === true && process.stdout.isTTY === true
const input = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: '> ' })

// A line printed while the user is typing must not run into the prompt: clear it, print,
// then redraw the prompt with what was typed so far.
function print (stream: NodeJS.WriteStream, text: string): void {
  if (tty) {
    clearLine(process.stdout, 0)
    cursorTo(process.stdout, 0)
  }
  stream.write(text + '\n')
  if (tty && !closing) input.prompt(true)
}

function status (text: string): void {
  print(process.stderr, `[${new Date().toISOString().slice(11, 23)} ${text}]`)
}

const client = new HeartbeatClient(url, {
  mode: env.HEARTBEAT_MODE === undefined || env.HEARTBEAT_MODE === '' ? undefined : env.HEARTBEAT_MODE as HeartbeatMode,
  interval: numberFromEnv('HEARTBEAT_INTERVAL') ?? 5_000,
  timeout: numberFromEnv('HEARTBEAT_TIMEOUT') ?? 5_000,
  // Lines typed while the server is away are sent when it is back.
  queue: 100
})

let wasOpen = false
client.on('open', () => {
  status(`${wasOpen ? 'open again' : 'open'}: ${url} (type a line and press Enter to send it)`)
  wasOpen = true
})
client.on('message', (data) => {
  print(process.stdout, `< ${typeof data === 'string' ? data : `(binary, ${data.length} bytes)`}`)
})
client.on('latency', (ms) => status(`heartbeat answered: rtt ${ms} ms`))
client.on('timeout', () => status('heartbeat timeout: the server stopped answering'))
client.on('close', (code, reason) => status(`closed: ${code}${reason === '' ? '' : ` ${reason}`}`))
client.on('reconnecting', ({ attempt, delay }) => status(`reconnecting: attempt ${attempt} in ${delay} ms`))
client.on('error', (err: Error & { statusCode?: number }) => {
  // @fastify/websocket answers an upgrade to a path without a websocket route with 404.
  const hint = err.statusCode === 404
    ? ` (no websocket route at ${new URL(url).pathname}: the example server has /chat, /echo and /raw)`
    : ''
  status(`error: ${err.message}${hint}`)
})

input.on('line', (line) => {
  if (tty) input.prompt()
  if (!client.send(line)) status('not sent: the queue is full or the client is closed')
  else if (client.state !== 'open') status(`queued until the connection is back (${client.state})`)
})

async function shutdown (): Promise<void> {
  if (closing) return
  closing = true
  status('closing')
  await client.close()
  input.close()
  // A pipe or terminal still open on stdin would otherwise keep the process alive.
  process.stdin.destroy()
  status(`closed (state: ${client.state})`)
}

process.once('SIGINT', () => { shutdown().catch((err) => { console.error(err); process.exitCode = 1 }) })
// End of input (Ctrl-D, or a pipe running dry) ends the session too, once what was typed
// has gone out: the queue is flushed on open, before our close frame.
input.once('close', () => {
  const end = (): void => { shutdown().catch((err) => { console.error(err); process.exitCode = 1 }) }
  if (client.state === 'open' || client.state === 'closed') end()
  else client.once('open', end)
})
