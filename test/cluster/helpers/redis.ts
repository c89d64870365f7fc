// A real redis-server per test file: a free port on 127.0.0.1, persistence off, killed at
// teardown. Lives under test/cluster/helpers so that tap does not run it as a test.
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import Redis, { type RedisOptions } from 'ioredis'
import { freePort, type TestTap } from '../../helpers/index.js'

export { freePort }

export interface RedisServer {
  port: number
  /** SIGKILL, and wait for the process to be gone. */
  kill (): Promise<void>
  /** Starts a new server on the same port. */
  restart (): Promise<void>
  /** SIGSTOP: the TCP connections stay open, nothing answers. */
  freeze (): void
  /** SIGCONT. */
  thaw (): void
}

function launch (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'
  ], { stdio: 'ignore' })
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000
    child.once('error', reject)
    const probe = (): void => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(child) })
      socket.once('error', () => {
        socket.destroy()
        if (child.exitCode !== null) reject(new Error(`redis-server exited with ${child.exitCode}`))
        else if (Date.now() > deadline) reject(new Error('redis-server did not listen within 10 s'))
        else setTimeout(probe, 20)
      })
    }
    probe()
  })
}

export async function startRedis (t: TestTap): Promise<RedisServer> {
  const port = await freePort()
  let child = await launch(port)
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await gone
  }
  t.teardown(stop)
  return {
    port,
    kill: stop,
    restart: async () => { child = await launch(port) },
    freeze: () => { child.kill('SIGSTOP') },
    thaw: () => { child.kill('SIGCONT') }
  }
}

/** An ioredis client that retries every 50 ms (the tests' Redis outages are short); disconnected at teardown. */
export function redisClient (t: TestTap, port: number, opts: RedisOptions = {}): Redis {
  const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 50, maxRetriesPerRequest: 1, ...opts })
  t.teardown(() => { client.disconnect() })
  return client
}
