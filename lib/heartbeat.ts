import { performance } from 'node:perf_hooks'
import { WebSocket } from 'ws'
import { GONE, type ConnectionState, type RareState, type TcpCounters } from './connection.js'
import { EPOCH, clock, clockAt, realClock, type Clock } from './clock.js'
import { Scheduler, gridTime, gridTimeAfter, slotWidth } from './scheduler.js'
import { expectAnswer, sendStamp } from './answers.js'
import { sendOwn, watchPongs } from './inbound.js'
import { codecFor } from './modes/json.js'

const { OPEN, CLOSING, CLOSED } = WebSocket

// A verdict that follows a stall waits one more turn of the event loop (see `judge`).
const STALL_MS = 20

export interface HeartbeatHost {
  /** Called once for a connection whose verdict is death. */
  dead (state: ConnectionState): void
  /** Called when sending a heartbeat failed (a throwing `json.payload`, for instance). */
  failed (state: ConnectionState, err: unknown): void
  /** A close handshake is under way that the plugin had not seen begin: give it its deadline. */
  closing (state: ConnectionState): void
  /** Connections that may be heartbeated, to size the slots (an estimate is enough). */
  population (): number
}

/**
 * The whole heartbeat timeline of every connection, driven by one scheduler:
 *
 *   connect ─ (interval, random phase) ─ due ─┬─ both directions moved since the last due:
 *                                            │    skip; next due = lastSeen + interval
 *                                            └─ ping (frame or JSON); next due = due + interval
 *                                                 (the connection keeps its slot); verdict at
 *                                                 ping + timeout (up to 5 ms later, on a grid)
 *                                                 unless an older ping is already waiting for one;
 *                                                 scheduled at the next due if that comes first.
 *                                                 A ping whose sending failed opens no wait.
 *   verdict ─ proof of life since that ping (any inbound frame, bytes read, or bytes queued
 *           │ ahead of the ping leaving the process) → alive
 *           └ none yet → judged after pending input is read (setImmediate) → dead
 *   dead ─ removed from the counts, close 1011, destroyed at now + closeTimeout
 *
 * So a peer silent from t is declared dead by t + interval + timeout, and never before
 * lastSeen + timeout. A socket whose close handshake began (either side) is destroyed
 * `closeTimeout` after it began (`deadline`).
 */
export class Heartbeats {
  readonly #scheduler: Scheduler<ConnectionState>
  readonly #host: HeartbeatHost
  #suspects: ConnectionState[] = []
  /** The `pingAt` each suspect was queued for, at the same index. */
  #suspectPings: number[] = []
  #judgeQueued = false
  #judgeQueuedAt = 0
  #hops = 0

  constructor (host: HeartbeatHost, time: Clock = realClock) {
    this.#host = host
    this.#scheduler = new Scheduler<ConnectionState>(
      (state, due, now) => this.#visit(state, due, now),
      () => this.#afterTick(),
      time
    )
  }

  /** Distinct due times waiting in the scheduler (each one a timer wake-up to come). */
  get pending (): number {
    return this.#scheduler.pending
  }

  start (state: ConnectionState, now: number): void {
    const mode = state.config.mode
    // An injected socket (app.injectWS) is an in-memory stream to a test's client that
    // does not answer ping frames: there is no dead peer to find, only false deaths.
    if (mode === 'off' || (mode === 'frame' && state.tcp === null)) return
    const interval = state.config.interval
    // A random phase spreads a burst of connections (every client reconnecting after a
    // deploy) over the whole interval instead of pinging them all at once; the first
    // heartbeat is early, never late.
    const pop = this.#host.population()
    let at = gridTime(now + interval * (1 - Math.random()), interval, pop)
    if (at <= now) at += slotWidth(interval, pop)
    this.#due(state, at)
  }

  /** Gives a socket whose close handshake began `closeTimeout` ms to finish it. */
  deadline (state: ConnectionState, now: number): void {
    const rare = state.ensureRare()
    if (rare.killAt !== 0) return
    rare.killAt = now + state.config.closeTimeout
    this.#scheduler.add(rare.killAt, state)
  }

  /** Sends one heartbeat outside the timeline (`conn.ping()`); its answer is awaited by `answers.ts`. Throws if sending fails. */
  sendNow (state: ConnectionState): number {
    const perf = performance.now()
    this.#sendPing(state, clockAt(perf))
    const sentAt = sendStamp(perf)
    expectAnswer(state, sentAt)
    state.observer?.heartbeatSent()
    return sentAt
  }

  /** True while the scheduler's timer is armed. */
  get armed (): boolean {
    return this.#scheduler.armed
  }

  /** Cancels every timer; connections are left as they are. */
  stop (): void {
    this.#scheduler.stop()
    this.#suspects = []
    this.#suspectPings = []
  }

  #due (state: ConnectionState, at: number): void {
    state.nextDue = at
    this.#scheduler.add(at, state)
  }

  #verdict (state: ConnectionState, at: number): void {
    state.verdictAt = at
    this.#scheduler.add(at, state)
  }

  #visit (state: ConnectionState, due: number, now: number): void {
    if (state.rare !== null && state.rare.killAt === due) this.#expire(state)
    if (state.status === GONE) return
    if (state.verdictAt === due) {
      state.verdictAt = 0
      if (state.seen >= state.pingAt) state.pingAt = 0
      else {
        this.#suspects.push(state)
        this.#suspectPings.push(state.pingAt)
      }
    }
    if (state.nextDue === due) this.#beat(state, due)
  }

  /** The close handshake took longer than closeTimeout: the 'close' listener untracks it. */
  #expire (state: ConnectionState): void {
    (state.rare as RareState).killAt = 0
    if (state.socket.readyState !== CLOSED) state.socket.terminate()
  }

  /** One heartbeat's turn, as named steps. */
  #beat (state: ConnectionState, due: number): void {
    state.nextDue = 0
    // A clock read per heartbeat, not once per tick: if the loop stalls partway through
    // a round (a slow payload function, a GC pause), a ping stamped with the tick's start
    // would get its verdict ms after it really left.
    const sentAt = performance.now()
    const now = clockAt(sentAt)
    this.#settleDeferredVerdict(state)
    const readyState = state.socket.readyState
    if (readyState !== OPEN) {
      if (readyState === CLOSING) this.#host.closing(state)
      return
    }
    const pop = this.#host.population()
    if (this.#skipWhenBusy(state, now, pop)) return
    const opensWait = state.pingAt === 0 || state.seen >= state.pingAt
    // Read once for both steps (the check behind `tcp` is not free).
    const tcp = state.tcp
    if (opensWait) this.#noteQueuedAhead(state, tcp)
    const sent = this.#send(state, sentAt, now)
    const next = this.#nextDue(state, due, now, pop)
    // A JSON ping runs the route's `json.payload` first, which may take long: its wait
    // counts from when it left. A ping frame leaves within the same µs as `now`.
    if (sent && opensWait) this.#openWait(state, tcp, next, state.config.mode === 'json' ? clock() : now)
  }

  /** A ping whose verdict was left for this heartbeat (see `#openWait`) and is still unanswered. */
  #settleDeferredVerdict (state: ConnectionState): void {
    if (state.pingAt !== 0 && state.verdictAt === 0 && state.seen < state.pingAt) {
      this.#verdict(state, gridTimeAfter(state.pingAt + state.config.timeout, state.config.interval))
    }
  }

  /**
   * Traffic both ways already proves life and keeps proxies from idling the connection;
   * the next heartbeat is due one interval after the last inbound frame, which keeps the
   * detection bound at lastSeen + interval + timeout.
   */
  #skipWhenBusy (state: ConnectionState, now: number, pop: number): boolean {
    if (!state.sent || state.seen <= state.markAt) return false
    const next = gridTime(state.seen + state.config.interval, state.config.interval, pop)
    if (next <= now) return false
    state.markAt = now
    state.sent = false
    this.#due(state, next)
    state.observer?.heartbeatSkipped()
    return true
  }

  /**
   * Data queued in this process ahead of the ping: if it leaves before the verdict, the
   * peer's TCP stack is reading (the ping's answer is stuck behind that data, not lost).
   */
  #noteQueuedAhead (state: ConnectionState, tcp: TcpCounters | null): void {
    if (tcp === null || tcp.writableLength === 0) {
      if (state.rare !== null) state.rare.writtenAtPing = -1
      return
    }
    const rare = state.ensureRare()
    rare.writtenAtPing = tcp.bytesWritten - tcp.writableLength
    rare.queuedAtPing = tcp._handle?.writeQueueSize ?? 0
  }

  /** Sends the ping; a failure is reported and the connection keeps its schedule. */
  #send (state: ConnectionState, sentAt: number, now: number): boolean {
    state.markAt = now
    state.sent = false
    try {
      this.#sendPing(state, now)
    } catch (err) {
      this.#host.failed(state, err)
      return false
    }
    expectAnswer(state, sendStamp(sentAt))
    state.observer?.heartbeatSent()
    return true
  }

  // An empty ping frame: `ws` writes it as one chunk, where a payload makes it two (header
  // and payload, corked into a writev), measurably more CPU per heartbeat at 10 000
  // connections (BENCHMARKS.md). Pongs answer pings in order (answers.ts).
  #sendPing (state: ConnectionState, now: number): void {
    watchPongs(state)
    if (state.config.mode === 'json') sendOwn(state, codecFor(state.config.json).ping(state, EPOCH + now))
    else state.socket.ping()
  }

  /** Keeps this connection's phase even after a late tick, so that a stall does not gather every connection into one slot for good. */
  #nextDue (state: ConnectionState, due: number, now: number, pop: number): number {
    const interval = state.config.interval
    let next = gridTime(due + interval, interval, pop)
    if (next <= now) next = gridTime(due + (Math.floor((now - due) / interval) + 1) * interval, interval, pop)
    if (next <= now) next = now + interval
    this.#due(state, next)
    return next
  }

  /** Opens the wait for the ping that left at `pingAt` (plugin clock). */
  #openWait (state: ConnectionState, tcp: TcpCounters | null, next: number, pingAt: number): void {
    state.pingAt = pingAt
    // A verdict still queued for an older ping (answered since) must not judge this one.
    state.verdictAt = 0
    state.readAtPing = tcp === null ? 0 : tcp.bytesRead
    const verdictAt = gridTimeAfter(state.pingAt + state.config.timeout, state.config.interval)
    // Almost every ping is answered within ms. When the next heartbeat comes no later
    // than the verdict would (timeout >= interval, the usual case), the verdict is
    // scheduled only then, and only if the ping is still unanswered: one scheduler
    // entry and one wake-up per heartbeat instead of two. Ticks run in due order, so
    // the verdict still comes at its time.
    if (verdictAt < next) this.#verdict(state, verdictAt)
  }

  #afterTick (): void {
    if (this.#suspects.length === 0 || this.#judgeQueued) return
    this.#judgeQueued = true
    this.#judgeQueuedAt = clock()
    this.#hops = 0
    setImmediate(this.#judge)
  }

  /**
   * Runs in the check phase, after the poll phase has read what was waiting in the
   * sockets, so a pong that arrived while this process was stalled counts. If that poll
   * phase itself stalled (a slow message handler), input may have queued up again
   * behind it: one more turn of the loop reads it.
   */
  readonly #judge = (): void => {
    const now = clock()
    if (now - this.#judgeQueuedAt > STALL_MS && this.#hops < 2) {
      this.#hops++
      this.#judgeQueuedAt = now
      setImmediate(this.#judge)
      return
    }
    this.#judgeQueued = false
    const suspects = this.#suspects
    const pings = this.#suspectPings
    this.#suspects = []
    this.#suspectPings = []
    for (let i = 0; i < suspects.length; i++) {
      const state = suspects[i]
      // Judged for the ping it was queued for: if a heartbeat since opened a wait for a
      // newer ping (which it does only once the older one was answered), that newer ping
      // has a verdict of its own, and judging it now, before its answer could come,
      // would be a false death (a loop stall can put a heartbeat between the two).
      if (state.status === GONE || state.pingAt === 0 || state.pingAt !== pings[i]) continue
      if (state.seen < state.pingAt && !progressed(state)) {
        this.#host.dead(state)
        continue
      }
      if (state.seen < state.pingAt) state.seen = now
      state.pingAt = 0
    }
  }
}

/** Proof of life the socket's byte counters give: a frame still arriving, or queued data leaving. */
function progressed (state: ConnectionState): boolean {
  const tcp = state.tcp
  if (tcp === null) return false
  if (tcp.bytesRead > state.readAtPing) return true
  const rare = state.rare
  if (rare === null || rare.writtenAtPing < 0) return false
  return tcp.bytesWritten - tcp.writableLength > rare.writtenAtPing ||
    (tcp._handle?.writeQueueSize ?? 0) < rare.queuedAtPing
}
