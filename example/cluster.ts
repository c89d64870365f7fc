// Three instances of the example server and one Redis on this machine:
//
//   npm run example:cluster
//
// then open http://127.0.0.1:3001/, :3002/ and :3003/ in three tabs: a chat message
// typed in one tab reaches the others (publish() through Redis), and each page's
// health line shows the cluster's totals. Ctrl-C stops everything. With REDIS_URL set,
// that Redis is used instead of starting one; BASE_PORT moves the instances.
import { spawn, type ChildProcess } from 'node:child_process'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'

const INSTANCES = 3
const basePort = Number(process.env.BASE_PORT ?? 3001)

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function listening (port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  return new Promise((resolve, reject) => {
    const probe = (): void => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve() })
      socket.once('error', () => {
        socket.destroy()
        if (Date.now() > end) reject(new Error(`nothing listens on ${port} after ${ms} ms`))
        else setTimeout(probe, 50)
      })
    }
    probe()
  })
}

async function main (): Promise<void> {
  const children: ChildProcess[] = []
  let redisUrl = process.env.REDIS_URL
  if (redisUrl === undefined) {
    // A throwaway Redis: persistence off, gone with this command.
    const port = await freePort()
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    redis.once('error', (err) => {
      console.error(`cannot start redis-server (${err.message}); install it or set REDIS_URL`)
      process.exit(1)
    })
    children.push(redis)
    await listening(port)
    redisUrl = `redis://127.0.0.1:${port}`
    console.log(`redis-server on ${redisUrl}`)
  }

  const server = join(__dirname, 'server.js')
  for (let i = 1; i <= INSTANCES; i++) {
    const port = basePort + i - 1
    const child = spawn(process.execPath, [server], {
      stdio: 'inherit',
      env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl, CLUSTER_NODE: `node-${i}` }
    })
    children.unshift(child)
    await listening(port)
    console.log(`instance node-${i}: http://127.0.0.1:${port}/`)
  }

  // Instances first (they drain and announce their departure), Redis last.
  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await gone
    }
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
