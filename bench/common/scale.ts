import type { Flags } from '../run.js'

export type Scale = 'full' | 'quick' | 'smoke'

/**
 * Options of every benchmark at each scale. `full` is the figures; `quick` takes a
 * few minutes; `smoke` only checks that the harness works end to end.
 */
export function presets (flags: Flags): Record<string, any> {
  const s = flags.scale
  const pick = <T>(full: T, quick: T, smoke: T): T => s === 'full' ? full : s === 'quick' ? quick : smoke
  const runs = flags.runs ?? pick(3, 3, 1)
  const connections = flags.connections ?? pick(10_000, 2_000, 200)
  const interval = flags.interval ?? pick(1_000, 1_000, 250)
  return {
    idle: {
      connections,
      interval,
      durationMs: 1000 * (flags.duration ?? pick(30, 10, 0.5)),
      warmupMs: pick(5_000, 3_000, interval),
      runs,
      profile: flags.profile,
      kinds: flags.kinds
    },
    scheduler: {
      sizes: pick([50_000, 1_000_000], [50_000, 200_000], [5_000]),
      // The plugin's default interval and timeout: the settings of a server that size.
      interval: pick(20_000, 5_000, 500),
      timeout: pick(30_000, 7_500, 750),
      durationMs: pick(20_000, 5_000, 1_000),
      runs,
      profile: flags.profile
    },
    stall: {
      connections: pick(2_000, 2_000, 200),
      interval,
      runs
    },
    health: {
      connections: [0, connections],
      durationS: pick(10, 4, 1),
      autocannonConnections: pick(64, 64, 8),
      runs
    },
    accept: {
      connections,
      runs
    },
    echo: {
      connections: pick(1_000, 1_000, 100),
      size: 64,
      durationMs: 1000 * (flags.duration ?? pick(10, 4, 0.5)),
      runs,
      kinds: flags.kinds
    },
    memory: {
      connections,
      soakS: flags.soak ?? 0,
      interval,
      runs
    },
    broadcast: {
      connections: flags.connections !== undefined ? [flags.connections] : pick([5_000, 10_000], [2_000], [200]),
      size: 100,
      // Rounds of one broadcast per way, interleaved: pairs close in time on a shared machine.
      rounds: flags.runs ?? pick(15, 8, 2),
      warmup: pick(3, 2, 1)
    },
    cluster: {
      seconds: pick(5, 3, 1),
      rate: 200,
      clients: pick(60, 60, 6),
      runs: flags.runs ?? pick(3, 1, 1)
    },
    scale: {
      connections: flags.connections !== undefined ? [flags.connections] : pick([1_000, 5_000, 10_000, 18_000], [1_000, 5_000], [100, 200]),
      kinds: flags.kinds,
      interval,
      durationMs: 1000 * (flags.duration ?? pick(10, 4, 0.5)),
      warmupMs: pick(3_000, 2_000, interval),
      // One run per point: the curve is 16 points, each its own server and fleet twice.
      runs: flags.runs ?? 1,
      scale: s
    }
  }
}
