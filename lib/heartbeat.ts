import { performance } from 'node:perf_hooks'
import { GONE, type WsConnection } from './connection.js'
import { clock, EPOCH } from './clock.js'
import { Scheduler, gridTime, gridTimeAfter, slotWidth } from './scheduler.js'
import { sendFramePing } from './modes/frame.js'
import { sendJsonPing } from './modes/json.js'

const OPEN = 1

// A verdict that follows a stall waits one more turn of the event loop (see `judge`).
const STALL_MS = 20

export interface HeartbeatHost {
  /** Called once for a connection whose verdict is death. */
  dead (conn: WsConnection): void
  /** Called when sending a heartbeat failed (a throwing `json.payload`, for instance). */
  error (conn: WsConnection, err: unknown): void
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
 *                                                 scheduled at the next due if that comes first
 *   verdict ─ proof of life since that ping (any inbound frame, or bytes read) → alive
 *           └ none yet → judged after pending input is read (setImmediate) → dead
 *   dead ─ removed from the counts, close 1011, destroyed at now + closeTimeout
 *
 * So a peer silent from t is declared dead by t + interval + timeout, and never before
 * lastSeen + timeout.
 */
export class Heartbeats {
  readonly scheduler: Scheduler<WsConnection>
  private readonly host: HeartbeatHost
  private suspects: WsConnection[] = []
  private judgeQueued = false
  private judgeQueuedAt = 0
  private hops = 0

  constructor (host: HeartbeatHost) {
    this.host = host
    this.scheduler = new Scheduler<WsConnection>(
      (conn, due, now) => this.visit(conn, due, now),
      () => this.afterTick()
    )
  }

  start (conn: WsConnection, now: number): void {
    if (conn.mode === 'off') return
    const interval = conn._config.interval
    // A random phase spreads a burst of connections (every client reconnecting after a
    // deploy) over the whole interval instead of pinging them all at once; the first
    // heartbeat is early, never late.
    const pop = this.host.population()
    let at = gridTime(now + interval * (1 - Math.random()), interval, pop)
    if (at <= now) at += slotWidth(interval, pop)
    this.due(conn, at)
  }

  /** Gives a socket that was sent a close frame `closeTimeout` ms to finish the handshake. */
  deadline (conn: WsConnection, now: number): void {
    conn._killAt = now + conn._config.closeTimeout
    this.scheduler.add(conn._killAt, conn)
  }

  private due (conn: WsConnection, at: number): void {
    conn._nextDue = at
    this.scheduler.add(at, conn)
  }

  private visit (conn: WsConnection, due: number, now: number): void {
    if (conn._killAt === due) {
      conn._killAt = 0
      if (conn.socket.readyState !== 3) conn.socket.terminate()
    }
    if (conn._state === GONE) return
    if (conn._verdictAt === due) {
      conn._verdictAt = 0
      if (conn._seen >= conn._pingAt) conn._pingAt = 0
      else this.suspects.push(conn)
    }
    if (conn._nextDue === due) this.beat(conn, due)
  }

  private beat (conn: WsConnection, due: number): void {
    conn._nextDue = 0
    // Read the clock per heartbeat, not once per tick: if the loop stalls partway through
    // a round (a slow payload function, a GC pause), a ping stamped with the tick's start
    // would get its verdict ms after it really left.
    const now = clock()
    const { interval, timeout } = conn._config
    // A ping whose verdict was left for this heartbeat (see below) and is still unanswered.
    if (conn._pingAt !== 0 && conn._verdictAt === 0 && conn._seen < conn._pingAt) {
      this.verdict(conn, gridTimeAfter(conn._pingAt + timeout, interval))
    }
    const socket = conn.socket
    if (socket.readyState !== OPEN) return
    const pop = this.host.population()

    // Traffic both ways already proves life and keeps proxies from idling the connection;
    // the next heartbeat is due one interval after the last inbound frame, which keeps
    // the detection bound at lastSeen + interval + timeout.
    if (conn._sent && conn._seen > conn._markAt) {
      const next = gridTime(conn._seen + interval, interval, pop)
      if (next > now) {
        conn._markAt = now
        conn._sent = false
        this.due(conn, next)
        conn._metrics?.heartbeatSkipped()
        return
      }
    }

    try {
      if (conn.mode === 'json') sendJsonPing(conn, EPOCH + now)
      else sendFramePing(conn)
      conn._pingStamp = now
      conn._pingPerf = performance.now()
      conn._metrics?.heartbeatSent()
    } catch (err) {
      this.host.error(conn, err)
    }
    conn._markAt = now
    conn._sent = false
    // Keep this connection's phase even after a late tick, so that a stall does not
    // gather every connection into the same slot for good.
    let next = gridTime(due + interval, interval, pop)
    if (next <= now) next = gridTime(due + (Math.floor((now - due) / interval) + 1) * interval, interval, pop)
    if (next <= now) next = now + interval
    this.due(conn, next)
    if (conn._pingAt === 0 || conn._seen >= conn._pingAt) {
      // The verdict counts from when the ping left, after any time spent building it.
      conn._pingAt = clock()
      // A verdict still queued for an older ping (answered since) must not judge this one.
      conn._verdictAt = 0
      const input = conn._input
      conn._readAtPing = input === null ? 0 : input.bytesRead
      const verdictAt = gridTimeAfter(conn._pingAt + timeout, interval)
      // Almost every ping is answered within ms. When the next heartbeat comes no later
      // than the verdict would (timeout >= interval, the usual case), the verdict is
      // scheduled only then, and only if the ping is still unanswered: one scheduler
      // entry and one wake-up per heartbeat instead of two. Ticks run in due order, so
      // the verdict still comes at its time.
      if (verdictAt < next) this.verdict(conn, verdictAt)
    }
  }

  private verdict (conn: WsConnection, at: number): void {
    conn._verdictAt = at
    this.scheduler.add(at, conn)
  }

  private afterTick (): void {
    if (this.suspects.length === 0 || this.judgeQueued) return
    this.judgeQueued = true
    this.judgeQueuedAt = clock()
    this.hops = 0
    setImmediate(this.judge)
  }

  /**
   * Runs in the check phase, after the poll phase has read what was waiting in the
   * sockets, so a pong that arrived while this process was stalled counts. If that poll
   * phase itself stalled (a slow message handler), input may have queued up again
   * behind it: one more turn of the loop reads it.
   */
  private readonly judge = (): void => {
    const now = clock()
    if (now - this.judgeQueuedAt > STALL_MS && this.hops < 2) {
      this.hops++
      this.judgeQueuedAt = now
      setImmediate(this.judge)
      return
    }
    this.judgeQueued = false
    const suspects = this.suspects
    this.suspects = []
    for (const conn of suspects) {
      if (conn._state === GONE || conn._pingAt === 0) continue
      if (conn._seen >= conn._pingAt) {
        conn._pingAt = 0
        continue
      }
      const input = conn._input
      // Bytes of a frame still in flight (a large message) prove life as well.
      if (input !== null && input.bytesRead > conn._readAtPing) {
        conn._seen = now
        conn._pingAt = 0
        continue
      }
      this.host.dead(conn)
    }
  }
}
