/**
 * `node build/bench/profile.js <file.cpuprofile> [top]`: self time per function of a
 * CPU profile (from `node --cpu-prof` or the idle benchmark's --profile), the figures
 * BENCHMARKS.md quotes to explain a missed target.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fmt, table } from './common/report.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface SelfTime {
  name: string
  ms: number
  pct: number
}

export function selfTimes (profile: Profile): { totalMs: number, top: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let totalUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i])
    const dt = profile.timeDeltas[i] ?? 0
    if (node === undefined) continue
    totalUs += dt
    const { functionName, url, lineNumber } = node.callFrame
    const where = url === '' ? '' : ` ${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}`
    const key = `${functionName || '(anonymous)'}${where}`
    self.set(key, (self.get(key) ?? 0) + dt)
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / totalUs }))
  return { totalMs: totalUs / 1000, top }
}

export function summarize (file: string, limit = 20): string {
  const { totalMs, top } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile)
  return `${file}: ${fmt(totalMs)} ms sampled\n` +
    table(['function (self time)', 'ms', '%'], top.slice(0, limit).map((t) => [t.name, fmt(t.ms), fmt(t.pct, 2)]))
}

if (require.main === module) {
  const [file, limit] = process.argv.slice(2)
  if (file === undefined) {
    console.error('usage: node build/bench/profile.js <file.cpuprofile> [top]')
    process.exit(2)
  }
  console.log(summarize(file, Number(limit ?? 20)))
}
