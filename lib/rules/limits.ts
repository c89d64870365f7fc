// Browser-safe: no Buffer, no node: imports (the client's ES-module build uses this file).

/** Only text messages of at most this many bytes of UTF-8 are examined as JSON heartbeats (inclusive). */
export const MAX_HEARTBEAT_BYTES = 1024

/**
 * The largest delay `setTimeout` honours, in ms. Node turns a larger one into 1 ms (and
 * browsers into 0), so a typo such as `2 ** 31` would fire at once: every duration
 * option is capped here.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** A close reason must fit a control frame: 125 bytes minus the 2-byte code (RFC 6455 section 5.5). */
export const MAX_CLOSE_REASON_BYTES = 123

/** Heartbeat timing defaults shared by the server and the client, in ms. */
export const HEARTBEAT_DEFAULTS: Readonly<{ interval: number, timeout: number, closeTimeout: number }> = Object.freeze({
  interval: 20_000,
  timeout: 30_000,
  closeTimeout: 2_000
})

/** Bytes of the UTF-8 encoding of `text` (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Length (text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/** The codes an endpoint may put in a close frame it sends (RFC 6455 section 7.4). */
export function isSendableCloseCode (code: unknown): code is number {
  return Number.isInteger(code) && (code === 1000 || code === 1001 || code === 1003 ||
    ((code as number) >= 1007 && (code as number) <= 1014) || ((code as number) >= 3000 && (code as number) <= 4999))
}
