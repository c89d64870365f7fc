/**
 * The wire format of `publish()` on the Redis channel, binary-safe:
 *
 *   flags (1 byte: 1 = binary, 2 = has route) · node length (1 byte) · node (UTF-8)
 *   · [route length (2 bytes, big-endian) · route (UTF-8)] · payload
 *
 * A text payload travels as its UTF-8 bytes and is handed back as a string, so the
 * sockets on other nodes get a text frame; a binary one is handed back as a Buffer.
 */

const BINARY = 1
const ROUTED = 2
const MAX_ROUTE_BYTES = 0xffff

export type PublishData = string | Buffer | ArrayBuffer | ArrayBufferView

export interface Published {
  node: string
  route: string | undefined
  data: string | Buffer
}

function payloadBytes (data: PublishData): Buffer | null {
  if (Buffer.isBuffer(data)) return data
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  return null
}

/** True for what `publish()` can carry to other nodes. */
export function isPublishData (data: unknown): data is PublishData {
  return typeof data === 'string' || Buffer.isBuffer(data) || ArrayBuffer.isView(data) || data instanceof ArrayBuffer
}

export function encode (node: Buffer, route: string | undefined, data: PublishData): Buffer {
  const binary = typeof data !== 'string'
  const payload = binary ? payloadBytes(data) as Buffer : Buffer.from(data)
  const routeBytes = route === undefined ? null : Buffer.from(route)
  if (routeBytes !== null && routeBytes.length > MAX_ROUTE_BYTES) throw new RangeError('fastify-ws-heartbeat: publish() route longer than 65535 bytes')
  const head = 2 + node.length + (routeBytes === null ? 0 : 2 + routeBytes.length)
  const out = Buffer.allocUnsafe(head + payload.length)
  out[0] = (binary ? BINARY : 0) | (routeBytes === null ? 0 : ROUTED)
  out[1] = node.length
  let at = 2 + node.copy(out, 2)
  if (routeBytes !== null) {
    out.writeUInt16BE(routeBytes.length, at)
    at += 2 + routeBytes.copy(out, at + 2)
  }
  payload.copy(out, at)
  return out
}

/** Reads a message; `null` for one this version cannot read (too short). */
export function decode (message: Buffer): Published | null {
  if (message.length < 2) return null
  const flags = message[0]
  let at = 2 + message[1]
  if (message.length < at) return null
  const node = message.toString('utf8', 2, at)
  let route: string | undefined
  if ((flags & ROUTED) !== 0) {
    if (message.length < at + 2) return null
    const end = at + 2 + message.readUInt16BE(at)
    if (message.length < end) return null
    route = message.toString('utf8', at + 2, end)
    at = end
  }
  const data = (flags & BINARY) !== 0 ? message.subarray(at) : message.toString('utf8', at)
  return { node, route, data }
}

/** True when `message` was published by `node` (this node's own echo), without decoding it. */
export function fromNode (message: Buffer, node: Buffer): boolean {
  return message.length >= 2 + node.length && message[1] === node.length && node.equals(message.subarray(2, 2 + node.length))
}
