// The browser entry (ES module): nothing Node-only may be imported from here.
import { HeartbeatClientCore } from './heartbeat-client.js'
import type { HeartbeatClientOptions, WebSocketConstructor } from './options.js'
import { connectDom } from './transport.js'

export class HeartbeatClient extends HeartbeatClientCore<ArrayBuffer> {
  constructor (url: string | URL, options?: HeartbeatClientOptions) {
    // Read at construction, not import, so a WebSocket installed later is found.
    const WebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    super(url, options, { WebSocket, connect: connectDom })
  }
}

export type { HeartbeatClientError, HeartbeatClientEvents, ReconnectingInfo, SendData } from './events.js'
export type { ReconnectInfo } from './backoff.js'
export type { ClientState, HeartbeatClientOptions, HeartbeatMode, JsonOptions, ReconnectOptions, WebSocketConstructor } from './options.js'
