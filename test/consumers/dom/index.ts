// A page's code: DOM types only, no @types/node. Bundlers resolve the `browser` condition.
import { HeartbeatClient, type HeartbeatClientOptions } from 'fastify-ws-heartbeat/client'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

const options: HeartbeatClientOptions = { mode: 'json', queue: 10 }
const client = new HeartbeatClient(location.origin.replace(/^http/, 'ws') + '/chat', options)
client.on('message', (data) => {
  const exact: Equal<typeof data, string | ArrayBuffer> = true
  if (typeof data !== 'string') document.title = String(new Uint8Array(data).length)
  return exact
})
client.on('latency', (ms) => { document.title = `${ms} ms` })
client.send(new Blob(['hi']))
