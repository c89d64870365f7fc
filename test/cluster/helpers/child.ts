import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { once, type TestTap } from '../../helpers/index.js'
import { interval, timeout } from './apps.js'

// The child runs TypeScript through the same loader as the test file (tap's).
const TS_LOADER = process.execArgv.filter((arg) => arg.includes('typescript'))

export interface ChildNode {
  node: string
  port: number
  url: string
  close (): Promise<void>
  /** Resolves with the rejection message of the child's `publish()`, or undefined. */
  publish (data: string, route?: string): Promise<string | undefined>
}

export interface NodeHost {
  child: ChildProcess
  /** Starts an app with `cluster` in the child process. */
  startNode (redisPort: number, node: string, cluster?: { interval?: number, timeout?: number }): Promise<ChildNode>
}

/** A child process that hosts cluster nodes; killed at teardown. */
export async function spawnHost (t: TestTap): Promise<NodeHost> {
  const child = fork(join(__dirname, 'node.ts'), [], { execArgv: TS_LOADER, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  t.teardown(() => { child.kill('SIGKILL') })
  await once(child, 'message', 90_000)
  let seq = 0
  function request (cmd: Record<string, unknown>, ms = 10_000): Promise<Record<string, unknown>> {
    const id = ++seq
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { child.off('message', listener); reject(new Error(`no answer to ${String(cmd.cmd)} within ${ms} ms`)) }, ms)
      function listener (msg: Record<string, unknown>): void {
        if (msg.seq !== id) return
        clearTimeout(timer)
        child.off('message', listener)
        resolve(msg)
      }
      child.on('message', listener)
      child.send({ ...cmd, seq: id })
    })
  }
  return {
    child,
    async startNode (redisPort, node, cluster = {}) {
      const reply = await request({ cmd: 'start', redisPort, node, interval: cluster.interval ?? interval, timeout: cluster.timeout ?? timeout })
      if (reply.error !== undefined) throw new Error(String(reply.error))
      const port = reply.port as number
      return {
        node,
        port,
        url: `ws://127.0.0.1:${port}`,
        async close () {
          const r = await request({ cmd: 'close', node })
          if (r.error !== undefined) throw new Error(String(r.error))
        },
        async publish (data, route) {
          const r = await request({ cmd: 'publish', node, data, route })
          return r.error as string | undefined
        }
      }
    }
  }
}
