// The Node entry (CommonJS): `ws` by default, so frame mode and 503 handling work.
import WebSocket from 'ws'
import { HeartbeatClientCore, type Platform } from './heartbeat-client.js'
import { connectNode } from './node.js'
import type { HeartbeatClientOptions, WebSocketConstructor } from './options.js'

const platform: Platform<Buffer> = {
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  connect: connectNode
}

export class HeartbeatClient extends HeartbeatClientCore<Buffer> {
  constructor (url: string | URL, options?: HeartbeatClientOptions) {
    super(url, options, platform)
  }
}

export type { HeartbeatClientError, HeartbeatClientEvents, ReconnectingInfo, SendData } from './events.js'
export type { ReconnectInfo } from './backoff.js'
export type { ClientState, HeartbeatClientOptions, HeartbeatMode, JsonOptions, ReconnectOptions, WebSocketConstructor } from './options.js'
