import type { Transport } from './transport.js'

/**
 * Proof of life that is not a whole frame yet, marked when a heartbeat opens a wait and
 * looked at when its verdict is due:
 * - bytes received since the mark: a large frame still arriving (Node only);
 * - bytes that were queued in this process at the mark (ahead of the heartbeat) leaving
 *   it since: the server's TCP stack took them, so the server is reading.
 * Bytes sent after the mark into an empty queue prove nothing: the kernel takes them
 * whether or not the server is alive.
 */
export class Progress {
  #read = 0
  #backlog = 0
  #sent = 0

  mark (transport: Transport): void {
    this.#read = transport.bytesRead()
    this.#backlog = transport.bufferedAmount()
    this.#sent = transport.bytesSent()
  }

  seen (transport: Transport): boolean {
    if (transport.bytesRead() > this.#read) return true
    // The queue drains in order: whatever leaves first is what was queued at the mark.
    return this.#backlog > 0 && transport.bytesSent() > this.#sent
  }
}
