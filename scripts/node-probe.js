'use strict'

// Loaded into every node process of a matrix run (NODE_OPTIONS=--require): records which
// binary actually ran, so that scripts/node-matrix.js can prove that npm, tsc, eslint, tap
// and tap's test processes all ran on the line under test, not on a node found elsewhere.
// Processes started with a cleared environment (no NODE_OPTIONS) are not seen.
try {
  require('node:fs').appendFileSync(process.env.NODE_MATRIX_PROBE, `${process.version} ${process.execPath}\n`)
} catch {
  // A probe must never change the outcome of the run it watches.
}
