// The page's chart: heartbeat round-trip time and the server's connection count over the
// last few minutes, drawn with uPlot (served by the example at /vendor/uplot/).
import UPlot from '/vendor/uplot/uPlot.esm.js'

const WINDOW_S = 300

// Samples arrive at different moments (a heartbeat answer, a health poll); each point
// carries one value and null for the other series, and `spanGaps` joins each line.
export function createChart (element) {
  const times = []
  const rtt = []
  const connections = []
  const plot = new UPlot({
    width: Math.max(320, element.clientWidth),
    height: 220,
    legend: { live: false },
    cursor: { show: false },
    series: [
      {},
      { label: 'round trip (ms)', stroke: '#1d4ed8', width: 2, scale: 'ms', spanGaps: true, points: { show: false } },
      { label: 'connections', stroke: '#18794e', width: 2, scale: 'n', spanGaps: true, paths: UPlot.paths.stepped({ align: 1 }), points: { show: false } }
    ],
    scales: {
      ms: { range: (_u, _min, max) => [0, Math.max(5, (max ?? 0) * 1.2)] },
      n: { range: (_u, _min, max) => [0, Math.max(2, Math.ceil((max ?? 0) * 1.2))] }
    },
    axes: [
      {},
      { scale: 'ms', label: 'ms', stroke: '#1d4ed8' },
      { scale: 'n', side: 1, label: 'connections', stroke: '#18794e', grid: { show: false }, incrs: [1, 2, 5, 10, 20, 50, 100, 1000] }
    ]
  }, [times, rtt, connections], element)

  function add (ms, count) {
    const now = Date.now() / 1000
    times.push(now)
    rtt.push(ms)
    connections.push(count)
    while (times.length > 0 && times[0] < now - WINDOW_S) {
      times.shift()
      rtt.shift()
      connections.shift()
    }
    plot.setData([times, rtt, connections])
  }

  window.addEventListener('resize', () => plot.setSize({ width: Math.max(320, element.clientWidth), height: 220 }))

  return {
    rtt: (ms) => add(ms, null),
    connections: (n) => add(null, n),
    /** How many samples of each series are drawn: for tests and the console. */
    counts: () => ({ rtt: rtt.filter((v) => v !== null).length, connections: connections.filter((v) => v !== null).length })
  }
}
