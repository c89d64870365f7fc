import type { FastifyBaseLogger } from 'fastify'
import { clock } from '../clock.js'

/**
 * The few methods of an ioredis client (or any client with the same shape) the plugin
 * uses. No Redis library is imported at run time: the application's client is the one
 * that talks to Redis, and its options (TLS, auth, retry strategy) apply.
 */
export interface RedisClient {
  publish (channel: string, message: string | Buffer): Promise<unknown>
  subscribe (...channels: string[]): Promise<unknown>
  /** A new connection with the same options: the plugin's subscriber. */
  duplicate (): RedisClient
  on (event: string, listener: (...args: any[]) => void): unknown
  removeListener (event: string, listener: (...args: any[]) => void): unknown
  disconnect (): void
  /** ioredis' connection state (`'ready'` when commands are answered). */
  readonly status?: string
}

export interface BrokerHandlers {
  /** Every message on a subscribed channel, as ioredis' `messageBuffer` gives it. */
  message (channel: Buffer, message: Buffer): void
  /** The client is ready again after a reconnection: time to announce. */
  ready (): void
}

// 'wait' is a lazyConnect client that connects on its first command.
const USABLE: ReadonlySet<string | undefined> = new Set([undefined, 'ready', 'wait'])

interface Pending {
  at: number
  settled: boolean
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * The Redis side of the cluster: the application's client publishes, a duplicate of it
 * subscribes. Both are listened to for `error` (an emitter without an `error` listener
 * throws), and their state gives `up`: Redis answered the last command and the
 * subscription is in place.
 *
 * A command that Redis does not answer (a frozen server keeps the TCP connection open,
 * so no client notices) is failed after `timeout` by one timer over the pending
 * commands, which are answered in the order they were sent on the one connection.
 */
export class Broker {
  readonly #redis: RedisClient
  readonly #channels: string[]
  readonly #timeout: number
  readonly #log: FastifyBaseLogger
  readonly #handlers: BrokerHandlers
  #subscriber: RedisClient | null = null
  #answered = false
  #subscribed = false
  #stopped = false
  #pending: Pending[] = []
  #head = 0
  #timer: NodeJS.Timeout | null = null
  #expireQueued = false
  #reportedDown = false

  constructor (redis: RedisClient, channels: string[], timeout: number, log: FastifyBaseLogger, handlers: BrokerHandlers) {
    this.#redis = redis
    this.#channels = channels
    this.#timeout = timeout
    this.#log = log
    this.#handlers = handlers
  }

  /** True while Redis answers this node's commands and its subscription is in place. */
  get up (): boolean {
    return this.#answered && this.#subscribed
  }

  start (): void {
    this.#redis.on('error', this.#onClientError)
    this.#redis.on('close', this.#onClientClose)
    this.#redis.on('ready', this.#onClientReady)
    const subscriber = this.#redis.duplicate()
    this.#subscriber = subscriber
    subscriber.on('error', this.#onSubscriberError)
    subscriber.on('close', this.#onSubscriberClose)
    subscriber.on('ready', this.#subscribe)
    subscriber.on('messageBuffer', this.#handlers.message)
    this.#subscribe()
  }

  /** Publishes; resolves once Redis accepted it, rejects when it cannot or does not answer within `timeout`. */
  publish (channel: string, message: string | Buffer): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error('fastify-ws-heartbeat: cluster publish after the app closed'))
    const status = this.#redis.status
    if (!USABLE.has(status)) {
      this.#answered = false
      return Promise.reject(new Error(`fastify-ws-heartbeat: Redis is unreachable (client ${String(status)})`))
    }
    return new Promise((resolve, reject) => {
      const entry: Pending = { at: clock(), settled: false, resolve, reject }
      this.#pending.push(entry)
      if (this.#timer === null) this.#arm(this.#timeout)
      let sent: Promise<unknown>
      try {
        sent = this.#redis.publish(channel, message)
      } catch (err) {
        sent = Promise.reject(err)
      }
      sent.then(() => {
        if (entry.settled) return
        entry.settled = true
        this.#markUp()
        resolve()
      }, (err: Error) => {
        if (entry.settled) return
        entry.settled = true
        this.#markDown(err)
        reject(err)
      })
    })
  }

  /** Stops subscribing (the duplicate is disconnected) and lets go of the application's client. */
  stop (): void {
    this.#stopped = true
    this.#redis.removeListener('close', this.#onClientClose)
    this.#redis.removeListener('ready', this.#onClientReady)
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    const subscriber = this.#subscriber
    this.#subscriber = null
    this.#subscribed = false
    if (subscriber !== null) {
      subscriber.removeListener('ready', this.#subscribe)
      subscriber.removeListener('messageBuffer', this.#handlers.message)
      subscriber.disconnect()
    }
    // Kept until the commands still in flight settle, so that their errors have a listener.
    const lastCall = (): void => {
      this.#redis.removeListener('error', this.#onClientError)
      subscriber?.removeListener('error', this.#onSubscriberError)
    }
    setTimeout(lastCall, this.#timeout).unref()
  }

  #arm (ms: number): void {
    this.#timer = setTimeout(this.#onTimer, Math.max(1, ms))
    this.#timer.unref()
  }

  // Answers that arrived while this process was stalled are read in the poll phase; the
  // check phase (setImmediate) then only fails commands still unanswered.
  readonly #onTimer = (): void => {
    this.#timer = null
    if (this.#expireQueued) return
    this.#expireQueued = true
    setImmediate(this.#expire)
  }

  readonly #expire = (): void => {
    this.#expireQueued = false
    if (this.#stopped) return
    const now = clock()
    const pending = this.#pending
    let head = this.#head
    while (head < pending.length) {
      const entry = pending[head]
      if (!entry.settled) {
        if (now - entry.at < this.#timeout) break
        entry.settled = true
        this.#markDown(new Error(`fastify-ws-heartbeat: Redis did not answer within ${this.#timeout} ms`))
        entry.reject(new Error(`fastify-ws-heartbeat: Redis did not answer within ${this.#timeout} ms`))
      }
      head++
    }
    if (head === pending.length) {
      this.#pending = []
      this.#head = 0
    } else {
      this.#head = head
      if (head > 1024) {
        this.#pending = pending.slice(head)
        this.#head = 0
      }
      this.#arm(pending[head].at + this.#timeout - now)
    }
  }

  readonly #subscribe = (): void => {
    const subscriber = this.#subscriber
    if (subscriber === null) return
    subscriber.subscribe(...this.#channels).then(() => {
      if (this.#subscriber !== subscriber) return
      this.#subscribed = true
      this.#reportBack()
    }, (err: Error) => {
      this.#log.debug({ err }, 'fastify-ws-heartbeat: subscribing to the cluster channels failed; retried when Redis is ready')
    })
  }

  #markUp (): void {
    this.#answered = true
    this.#reportBack()
  }

  #reportBack (): void {
    if (this.#reportedDown && this.up) {
      this.#reportedDown = false
      this.#log.info('fastify-ws-heartbeat: Redis is reachable again')
    }
  }

  #markDown (err: Error): void {
    this.#answered = false
    this.#report(err)
  }

  #report (err: Error): void {
    if (this.#reportedDown || this.#stopped) {
      this.#log.debug({ err }, 'fastify-ws-heartbeat: Redis error')
    } else {
      this.#reportedDown = true
      this.#log.warn({ err }, 'fastify-ws-heartbeat: Redis is unreachable; local service continues, cluster totals age out')
    }
  }

  readonly #onClientError = (err: Error): void => { this.#markDown(err) }
  readonly #onSubscriberError = (err: Error): void => {
    this.#subscribed = false
    this.#report(err)
  }

  readonly #onClientClose = (): void => { this.#answered = false }
  readonly #onSubscriberClose = (): void => { this.#subscribed = false }
  readonly #onClientReady = (): void => { this.#handlers.ready() }
}
