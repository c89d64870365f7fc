/**
 * The load test of issue 5 (not a timed test): 10 000 connections held for 60 s at a
 * 1 s interval from separate client processes — zero false timeouts, health counts exact
 * all along — then every client process frozen at once (SIGSTOP: the kernel keeps the
 * TCP connections open, nobody answers) and each connection's death timed against the
 * bound `interval + timeout`.
 *
 *   node build/bench/hold.js [--connections=N] [--hold=S] [--interval=MS] [--timeout=MS]
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startLoads, startServer, openConnections, loadStats, stopAll } from './common/fleet.js'
import { sleep } from './common/proc.js'
import { machine, resultsDir } from './common/report.js'

function flag (name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  const value = arg === undefined ? process.env[`HOLD_${name.toUpperCase()}`] : arg.split('=')[1]
  return value === undefined ? fallback : Number(value)
}

async function main (): Promise<void> {
  const n = flag('connections', 10_000)
  const holdS = flag('hold', 60)
  const interval = flag('interval', 1000)
  const timeout = flag('timeout', 1000)
  const bound = interval + timeout

  const { server, port } = await startServer({ kind: 'plugin', interval, timeout })
  const loads = startLoads(n, 'ws')
  try {
    const opened = await openConnections(loads, `ws://127.0.0.1:${port}/ws`, n)
    console.log(`opened ${opened.opened}/${n} in ${Math.round(opened.ms)} ms (${opened.failed} failed)`)

    // Hold: every 5 s the health body must count exactly the connections the clients hold.
    const checks: Array<{ at: number, health: number, clients: number, server: number, deaths: number }> = []
    const end = Date.now() + holdS * 1000
    while (Date.now() < end) {
      await sleep(5000)
      const [health, clients, count] = await Promise.all([
        fetch(`http://127.0.0.1:${port}/health/ws`).then((r) => r.json() as Promise<{ connections: number }>),
        loadStats(loads),
        server.call<{ connections: number, deaths: number }>('count')
      ])
      checks.push({ at: Math.round((Date.now() - end) / 1000 + holdS), health: health.connections, clients: clients.open, server: count.connections, deaths: count.deaths })
      console.log(`t=${checks.at(-1)?.at}s health ${health.connections}, clients hold ${clients.open}, false timeouts ${count.deaths}`)
    }
    const falseTimeouts = (await server.call<{ deaths: number }>('count')).deaths
    const exact = checks.every((c) => c.health === c.clients && c.health === opened.opened)

    // Freeze every client at once; each connection must be declared dead within the bound.
    await server.call('deathTimes')
    const frozenAt = Date.now()
    for (const load of loads) load.proc.kill('SIGSTOP')
    let left = n
    while (left > 0 && Date.now() - frozenAt < bound * 3 + 5000) {
      await sleep(50)
      left = (await server.call<{ connections: number }>('count')).connections
    }
    const deaths = (await server.call<number[]>('deathTimes')).map((t) => t - frozenAt).sort((a, b) => a - b)
    const pct = (p: number): number => deaths[Math.min(deaths.length - 1, Math.floor(p * deaths.length))] ?? NaN
    const result = {
      name: 'hold',
      machine: machine(),
      connections: n,
      opened: opened.opened,
      holdSeconds: holdS,
      interval,
      timeout,
      falseTimeouts,
      healthExact: exact,
      checks,
      detected: deaths.length,
      detectionMs: { min: deaths[0], p50: pct(0.5), p99: pct(0.99), max: deaths.at(-1) },
      bound,
      withinBound: deaths.length === opened.opened && (deaths.at(-1) ?? Infinity) <= bound + 100
    }
    console.log(`false timeouts during the hold: ${falseTimeouts}; health exact at every check: ${exact}`)
    console.log(`frozen: ${deaths.length}/${opened.opened} detected, after ${result.detectionMs.min}..${result.detectionMs.max} ms (p50 ${result.detectionMs.p50}, p99 ${result.detectionMs.p99}); bound ${bound} ms`)
    writeFileSync(join(resultsDir(), 'hold.json'), JSON.stringify(result, null, 2))
  } finally {
    for (const load of loads) load.proc.kill('SIGKILL')
    await stopAll([server])
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
