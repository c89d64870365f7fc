import { realClock, type Clock, type Timer } from './timers.js'

export interface KeepaliveHooks {
  /** Send one heartbeat (a ping frame or a JSON ping). */
  ping (): void
  /** Proof of life arrived after a heartbeat: the connection is healthy. */
  answered (): void
  /** A heartbeat opens a wait: remember where the byte counts stand (called before ping()). */
  mark (): void
  /** When the verdict is due: did bytes move since mark() (a frame arriving, our queue draining)? */
  progressed (): boolean
  /** `timeout` ms passed after a heartbeat with no proof of life. */
  dead (): void
}

/**
 * The client's whole heartbeat timeline, for one connection.
 *
 * A heartbeat is sent every `interval` ms. The first heartbeat sent after the last
 * proof of life (any inbound frame) opens a wait; if `timeout` ms pass with no proof
 * of life the peer is dead. Proof of life before that closes the wait. A peer going
 * silent at time t gets its next heartbeat by t + interval, so it is declared dead by
 * t + interval + timeout, and never sooner than `timeout` after its last proof of life.
 *
 * A timer that fires more than min(interval, timeout) / 2 late means our process was not
 * running (sleeping machine, throttled tab), not that the peer is silent: such a timer
 * starts a fresh round (heartbeat now, wait `timeout` again) instead of giving a verdict.
 * A verdict that is due is given one macrotask later, so that input already waiting in
 * the socket is read first. Bytes moving since the wait opened (part of a large frame
 * arriving, our queued data leaving) are proof of life seen at that moment: the wait closes
 * and the next heartbeat opens a new one.
 */
export class Keepalive {
  readonly #interval: number
  readonly #timeout: number
  readonly #lateBy: number
  readonly #hooks: KeepaliveHooks
  readonly #clock: Clock
  #heartbeatTimer: Timer | undefined
  #verdictTimer: Timer | undefined
  /** Id of the open wait for proof of life; undefined while none is open. */
  #waiting: number | undefined
  #rounds = 0
  #stopped = false

  constructor (interval: number, timeout: number, hooks: KeepaliveHooks, clock: Clock = realClock) {
    this.#interval = interval
    this.#timeout = timeout
    this.#lateBy = Math.min(interval, timeout) / 2
    this.#hooks = hooks
    this.#clock = clock
  }

  start (): void {
    this.#scheduleHeartbeat(this.#clock.now() + this.#interval)
  }

  /** Any inbound frame. */
  alive (): void {
    if (this.#waiting === undefined || this.#stopped) return
    this.#waiting = undefined
    this.#clearVerdict()
    this.#hooks.answered()
  }

  stop (): void {
    this.#stopped = true
    if (this.#heartbeatTimer !== undefined) this.#clock.clearTimeout(this.#heartbeatTimer)
    this.#clearVerdict()
  }

  #scheduleHeartbeat (due: number): void {
    const delay = Math.max(0, due - this.#clock.now())
    this.#heartbeatTimer = this.#clock.setTimeout(() => this.#onHeartbeat(due), delay)
  }

  #onHeartbeat (due: number): void {
    const now = this.#clock.now()
    if (now - due > this.#lateBy) return this.#freshRound(now)
    this.#waitFrom(now)
    // Scheduled from `due`, not `now`, so the cadence does not drift.
    this.#scheduleHeartbeat(due + this.#interval)
    this.#hooks.ping()
  }

  #onVerdict (due: number, round: number): void {
    const now = this.#clock.now()
    if (now - due > this.#lateBy) return this.#freshRound(now)
    this.#verdictTimer = this.#clock.setTimeout(() => {
      this.#verdictTimer = undefined
      if (this.#waiting !== round || this.#stopped) return
      if (this.#hooks.progressed()) return this.alive()
      this.stop()
      this.#hooks.dead()
    }, 0)
  }

  #freshRound (now: number): void {
    if (this.#heartbeatTimer !== undefined) this.#clock.clearTimeout(this.#heartbeatTimer)
    this.#clearVerdict()
    this.#waiting = undefined
    this.#waitFrom(now)
    this.#scheduleHeartbeat(now + this.#interval)
    this.#hooks.ping()
  }

  /** Opens a wait unless one is already open: the earliest unanswered heartbeat counts. */
  #waitFrom (now: number): void {
    if (this.#waiting !== undefined) return
    const round = this.#waiting = ++this.#rounds
    this.#hooks.mark()
    const due = now + this.#timeout
    this.#verdictTimer = this.#clock.setTimeout(() => this.#onVerdict(due, round), this.#timeout)
  }

  #clearVerdict (): void {
    if (this.#verdictTimer !== undefined) this.#clock.clearTimeout(this.#verdictTimer)
    this.#verdictTimer = undefined
  }
}
