import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

/** Soft open-file limit set for every child: the hard limit here is 20 000. */
export const FD_LIMIT = 20_000

export interface Request { id: number, cmd: string, args?: unknown }
export interface Reply { id: number, ok: boolean, result?: unknown, error?: string }

/**
 * A benchmark process (server, load or stub scheduler) driven by request/reply messages.
 * It is started through `bash -c 'ulimit -Sn …; exec node …'` so that its soft fd limit
 * is raised without touching the system or this process.
 */
export class Child {
  readonly proc: ChildProcess
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>()
  private exited = false

  constructor (script: string, config: unknown, nodeFlags: string[] = []) {
    this.proc = fork(join(__dirname, '..', script + '.js'), [JSON.stringify(config)], {
      execPath: '/bin/bash',
      execArgv: ['-c', `ulimit -Sn ${FD_LIMIT} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...nodeFlags],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    this.proc.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id)
      if (w === undefined) return
      this.waiting.delete(m.id)
      if (m.ok) w.resolve(m.result)
      else w.reject(new Error(`${script}: ${m.error ?? 'failed'}`))
    })
    this.proc.on('exit', (code, signal) => {
      this.exited = true
      for (const w of this.waiting.values()) w.reject(new Error(`${script} exited (${code ?? signal})`))
      this.waiting.clear()
    })
  }

  call<T = any> (cmd: string, args?: unknown, timeoutMs = 300_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error('child has exited'))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`${cmd}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.proc.send({ id, cmd, args })
    })
  }

  /** Asks the child to exit, and kills it if it has not within 5 s. */
  async stop (): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()))
    this.proc.send({ id: 0, cmd: 'exit' }, () => {})
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000)
    await gone
    clearTimeout(timer)
  }
}

/** Serves requests from the parent in a child process; `exit` ends the process. */
export function serve (handlers: Record<string, (args: any) => unknown>): void {
  process.on('message', async (m: Request) => {
    if (m.cmd === 'exit') process.exit(0)
    const handler = handlers[m.cmd]
    try {
      if (handler === undefined) throw new Error(`unknown command ${m.cmd}`)
      const result = await handler(m.args)
      process.send?.({ id: m.id, ok: true, result })
    } catch (err) {
      process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) })
    }
  })
  // An orphaned child (the driver crashed) must not keep running.
  process.on('disconnect', () => process.exit(0))
}

export function config<T> (): T {
  return JSON.parse(process.argv[2] ?? '{}') as T
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Splits `n` as evenly as possible over `parts`. */
export function split (n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0))
}
