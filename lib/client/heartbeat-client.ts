import { reconnectDelay } from './backoff.js'
import { Emitter } from './emitter.js'
import { JsonCodec, MAX_CLOSE_REASON_BYTES, readHeartbeat, utf8Length } from '../rules/index.js'
import { Keepalive } from './keepalive.js'
import { newConnection, type Connection } from './connection.js'
import type { HeartbeatClientEvents, SendData } from './events.js'
import { resolveOptions, type ClientState, type HeartbeatClientOptions, type ResolvedOptions, type WebSocketConstructor } from './options.js'
import { realClock, unref, type Timer } from './timers.js'
import type { Connect, Transport } from './transport.js'

export interface Platform<Binary> {
  WebSocket: WebSocketConstructor | undefined
  connect: Connect<Binary>
}

// Pages may only send 1000 and 3000-4999; 4000-4999 is left for private use.
const TIMEOUT_CODE = 4000
const TIMEOUT_REASON = 'heartbeat timeout'
const ABNORMAL = 1006

export class HeartbeatClientCore<Binary> extends Emitter<HeartbeatClientEvents<Binary>> {
  readonly url: string
  readonly #options: ResolvedOptions
  readonly #codec: JsonCodec
  readonly #connect: Connect<Binary>
  #state: ClientState = 'connecting'
  #conn: Connection | undefined
  /** Reconnect attempts since the last connection that answered a heartbeat. */
  #attempts = 0
  #reconnectTimer: Timer | undefined
  #queue: SendData[] = []
  #latency: number | null = null
  #closed: Promise<void> | undefined
  /** Sockets given up on (heartbeat timeout) that still have closeTimeout ms to close. */
  readonly #lingering = new Set<Transport>()

  constructor (url: string | URL, options: HeartbeatClientOptions | undefined, platform: Platform<Binary>) {
    super()
    if (typeof url !== 'string' && !(url instanceof URL)) {
      throw new TypeError(`fastify-ws-heartbeat/client: 'url' must be a string or a URL, received ${String(url)}`)
    }
    this.#options = resolveOptions(options, platform.WebSocket)
    this.#codec = new JsonCodec(this.#options.json)
    this.url = String(url)
    this.#connect = platform.connect
    this.#dial(true)
  }

  get state (): ClientState {
    return this.#state
  }

  /** Round-trip time of the last answered heartbeat on the current connection, in ms. */
  get latency (): number | null {
    return this.#latency
  }

  /** True if sent now or queued until the next open, false if dropped. */
  send (data: SendData): boolean {
    if (this.#state === 'closed') return false
    const transport = this.#conn?.transport
    if (this.#state === 'open' && transport?.isOpen() === true) {
      transport.send(data)
      return true
    }
    if (this.#queue.length >= this.#options.queue) return false
    this.#queue.push(data)
    return true
  }

  close (code = 1000, reason = ''): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    // Checked here, not by the socket, so that a bad call leaves the client untouched.
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      return Promise.reject(new TypeError(`fastify-ws-heartbeat/client: close code must be 1000 or 3000-4999, received ${code}`))
    }
    if (typeof reason !== 'string' || utf8Length(reason) > MAX_CLOSE_REASON_BYTES) {
      return Promise.reject(new TypeError(`fastify-ws-heartbeat/client: close reason must be a string of at most ${MAX_CLOSE_REASON_BYTES} bytes`))
    }
    this.#stop()
    const conn = this.#conn
    if (conn?.transport === undefined || !conn.opened) {
      this.#conn = undefined
      if (conn !== undefined) this.#endTimers(conn)
      conn?.transport?.terminate()
      this.#closed = Promise.resolve()
      return this.#closed
    }
    const transport = conn.transport
    this.#endTimers(conn)
    this.#closed = new Promise((resolve) => {
      const finish = (code: number, reason: string): void => {
        clearTimeout(timer)
        this.#conn = undefined
        resolve()
        this.emit('close', code, reason)
      }
      const timer = unref(setTimeout(() => {
        transport.terminate()
        finish(ABNORMAL, '')
      }, this.#options.closeTimeout))
      conn.onClosed = finish
      transport.close(code, reason)
    })
    return this.#closed
  }

  #dial (first: boolean): void {
    this.#reconnectTimer = undefined
    const conn = newConnection()
    this.#conn = conn
    // Events of a socket we have moved on from (timed out, replaced) are ignored.
    const current = (): boolean => this.#conn === conn
    try {
      conn.transport = this.#connect(this.#options.WebSocket, this.url, {
        open: () => { if (current()) this.#onOpen(conn) },
        message: (data, isBinary) => { if (current()) this.#onMessage(conn, data, isBinary) },
        ping: () => { if (current()) conn.keepalive?.alive() },
        pong: (payload) => { if (current()) this.#onPong(conn, payload) },
        closing: () => { if (current()) this.#onClosing(conn) },
        error: (err) => { if (current()) this.emit('error', err) },
        rejected: (status, retryAfter) => { if (current()) this.#onRejected(conn, status, retryAfter) },
        close: (code, reason) => {
          if (conn.transport !== undefined) this.#lingering.delete(conn.transport)
          if (!current()) return
          this.#endTimers(conn)
          if (conn.onClosed !== undefined) conn.onClosed(code, reason)
          else this.#onLoss(conn, code, reason, false)
        }
      })
      conn.connectTimer = unref(setTimeout(() => { if (current()) this.#abandon(conn) }, this.#options.connectTimeout))
    } catch (err) {
      // The first connection throws to the constructor's caller (a malformed URL);
      // a later one cannot differ from it, but is treated as a failed attempt anyway.
      if (first) throw err
      this.emit('error', err as Error)
      this.#onLoss(conn, ABNORMAL, '', false)
    }
  }

  /** Not open after connectTimeout: a failed attempt like a refused one. */
  #abandon (conn: Connection): void {
    conn.transport?.terminate()
    this.emit('error', new Error(`fastify-ws-heartbeat/client: no open within connectTimeout (${this.#options.connectTimeout} ms)`))
    this.#onLoss(conn, ABNORMAL, '', false)
  }

  #onOpen (conn: Connection): void {
    const transport = conn.transport as Transport
    conn.opened = true
    if (conn.connectTimer !== undefined) clearTimeout(conn.connectTimer)
    this.#state = 'open'
    this.#startHeartbeat(conn)
    // Flushed before 'open' is emitted, so queued messages go out before anything
    // the open listeners send.
    const queued = this.#queue
    this.#queue = []
    for (const data of queued) transport.send(data)
    this.emit('open')
  }

  #startHeartbeat (conn: Connection): void {
    const { mode, interval, timeout } = this.#options
    if (mode === 'off') {
      // With no heartbeat to answer, staying open for an interval is what proves health.
      conn.healthyTimer = unref(setTimeout(() => { this.#attempts = 0 }, interval))
      return
    }
    const transport = conn.transport as Transport
    conn.keepalive = new Keepalive(interval, timeout, {
      ping: () => this.#ping(conn),
      answered: () => { this.#attempts = 0 },
      mark: () => conn.progress.mark(transport),
      progressed: () => conn.progress.seen(transport),
      dead: () => this.#onDead(conn)
    })
    conn.keepalive.start()
  }

  #endHeartbeat (conn: Connection): void {
    conn.keepalive?.stop()
    if (conn.healthyTimer !== undefined) clearTimeout(conn.healthyTimer)
  }

  /** Everything timed on this connection stops: heartbeats and the open and close deadlines. */
  #endTimers (conn: Connection): void {
    this.#endHeartbeat(conn)
    if (conn.connectTimer !== undefined) clearTimeout(conn.connectTimer)
    if (conn.closingTimer !== undefined) clearTimeout(conn.closingTimer)
  }

  #ping (conn: Connection): void {
    const transport = conn.transport as Transport
    if (!transport.isOpen()) return
    // The wire carries the wall clock (what a server may log or compare); the round trip
    // is timed on the monotonic one, so that a clock step cannot distort it.
    const now = Date.now()
    conn.pingSentAt = realClock.now()
    try {
      if (this.#options.mode === 'frame') {
        conn.lastPing = String(now)
        transport.ping?.(String(now))
      } else {
        conn.lastPing = now
        transport.send(this.#codec.ping(now, this.#options.payload?.()))
      }
    } catch (err) {
      this.emit('error', err as Error)
    }
  }

  #onMessage (conn: Connection, data: string | Binary, isBinary: boolean): void {
    conn.keepalive?.alive()
    if (!isBinary && this.#options.mode !== 'off') {
      const heartbeat = readHeartbeat(data as string, this.#options.json)
      if (heartbeat?.kind === 'ping') {
        const transport = conn.transport as Transport
        if (transport.isOpen()) transport.send(this.#codec.pong(heartbeat.timestamp))
        return
      }
      if (heartbeat?.kind === 'pong') return this.#onPong(conn, heartbeat.timestamp)
    }
    this.emit('message', data)
  }

  #onPong (conn: Connection, echoed: unknown): void {
    conn.keepalive?.alive()
    // A pong to an older ping still proves life, but would overstate the round trip.
    if (conn.lastPing === undefined || echoed !== conn.lastPing) return
    conn.lastPing = undefined
    this.#latency = Math.round(realClock.now() - conn.pingSentAt)
    this.emit('latency', this.#latency)
  }

  #onRejected (conn: Connection, status: number, retryAfter: number | null): void {
    // Retry-After is meaningful with 503 (RFC 9110 15.6.4) and 429 (RFC 6585).
    if (status === 503 || status === 429) conn.retryAfter = retryAfter
    conn.statusCode = status
    const err = new Error(`fastify-ws-heartbeat/client: the server answered the upgrade with ${status}`)
    this.emit('error', Object.assign(err, { statusCode: status, retryAfter }))
  }

  /**
   * The server began the close handshake: no heartbeat verdict from now on, and a server
   * that leaves TCP open after its close frame has closeTimeout ms to end it. The close
   * event that follows carries the server's code and decides on reconnecting.
   */
  #onClosing (conn: Connection): void {
    if (conn.onClosed !== undefined || conn.closingTimer !== undefined) return
    this.#endHeartbeat(conn)
    const transport = conn.transport as Transport
    conn.closingTimer = unref(setTimeout(() => transport.terminate(), this.#options.closeTimeout))
  }

  #onDead (conn: Connection): void {
    // A dead server will not finish the close handshake: the socket is destroyed after
    // closeTimeout in the background while we already reconnect.
    const transport = conn.transport as Transport
    this.#lingering.add(transport)
    transport.close(TIMEOUT_CODE, TIMEOUT_REASON)
    unref(setTimeout(() => {
      if (this.#lingering.delete(transport)) transport.terminate()
    }, this.#options.closeTimeout))
    this.#onLoss(conn, TIMEOUT_CODE, TIMEOUT_REASON, true)
  }

  /** A close we did not ask for: reconnect, or stop for good. */
  #onLoss (conn: Connection, code: number, reason: string, timedOut: boolean): void {
    this.#conn = undefined
    this.#endTimers(conn)
    this.#latency = null
    const delay = this.#nextDelay(code, reason, conn.retryAfter, conn.statusCode)
    if (delay === undefined) {
      this.#stop()
      this.#closed = Promise.resolve()
    } else {
      this.#state = 'reconnecting'
      this.#attempts++
      // Not unref()-ed: waiting to reconnect is the client's work, not housekeeping.
      this.#reconnectTimer = setTimeout(() => this.#dial(false), delay)
    }
    const timer = this.#reconnectTimer
    if (timedOut) this.emit('timeout')
    if (conn.opened) this.emit('close', code, reason)
    // A listener above may have called close(): then there is no attempt to announce.
    if (delay !== undefined && timer !== undefined && this.#reconnectTimer === timer) {
      this.emit('reconnecting', { attempt: this.#attempts, delay, code, reason })
    }
  }

  #nextDelay (code: number, reason: string, retryAfter: number | null, statusCode: number | undefined): number | undefined {
    try {
      return reconnectDelay(this.#options.reconnect, this.#attempts, code, reason, retryAfter, statusCode)
    } catch (err) {
      // A throwing shouldReconnect is a bug in the application: reported, and not retried.
      this.emit('error', err as Error)
      return undefined
    }
  }

  #stop (): void {
    this.#state = 'closed'
    this.#queue = []
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    for (const transport of this.#lingering) transport.terminate()
    this.#lingering.clear()
  }
}
