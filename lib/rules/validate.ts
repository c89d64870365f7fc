// Browser-safe: no Buffer, no node: imports (the client's ES-module build uses this file).
import { MAX_TIMER_MS } from './limits.js'
import type { JsonNames } from './json.js'

/** What is wrong with one option: its dotted name, what was expected, the value received. */
export interface OptionProblem {
  name: string
  expected: string
  value: unknown
}

/**
 * Turns a problem into the error the caller throws: the server makes it a
 * `FST_ERR_WS_HEARTBEAT_INVALID_OPTION`, the client a `TypeError`. The validators below
 * throw whatever it returns.
 */
export type OptionError = (problem: OptionProblem) => Error

/** Keys of a `json` option object. */
export const JSON_OPTION_KEYS: readonly string[] = Object.freeze(['typeKey', 'ping', 'pong', 'timestampKey', 'payload'])

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Throws for the first key of `value` not in `known` (`prefix` is e.g. `'json.'`). */
export function checkKeys (value: Record<string, unknown>, known: readonly string[], prefix: string, error: OptionError): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw error({ name: prefix + key, expected: `one of ${known.join(', ')} (unknown key)`, value: value[key] })
  }
}

/**
 * A duration in ms: a finite number up to MAX_TIMER_MS, above 0 (or from 0 with
 * `zero: true`). `undefined` gives `fallback`.
 */
export function checkDuration (value: unknown, name: string, fallback: number, error: OptionError, zero = false): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && value <= MAX_TIMER_MS && (zero ? value >= 0 : value > 0)) return value
  const expected = zero
    ? `a finite number of milliseconds from 0 to ${MAX_TIMER_MS}`
    : `a positive finite number of milliseconds up to ${MAX_TIMER_MS}`
  throw error({ name, expected, value })
}

/** A positive integer or `Infinity` (caps such as `maxConnections`). `undefined` gives `fallback`. */
export function checkLimit (value: unknown, name: string, fallback: number, error: OptionError): number {
  if (value === undefined) return fallback
  if (value === Infinity || (typeof value === 'number' && Number.isSafeInteger(value) && value > 0)) return value
  throw error({ name, expected: 'a positive integer or Infinity', value })
}

/** The validated `json` option merged name by name over `base`, and its `payload` function if any. */
export interface CheckedJsonOptions extends JsonNames {
  payload: ((...args: never[]) => unknown) | undefined
}

/**
 * Validates a `json` option (`name` is its dotted name, e.g. `'json'` or
 * `'heartbeat.json'`): known keys only, non-empty strings, `ping !== pong` and
 * `typeKey !== timestampKey` (else a ping's own timestamp field would overwrite its type),
 * `payload` a function. Unset names keep `base`'s.
 */
export function checkJsonOptions (value: unknown, name: string, base: JsonNames, error: OptionError): CheckedJsonOptions {
  if (value === undefined) return { typeKey: base.typeKey, ping: base.ping, pong: base.pong, timestampKey: base.timestampKey, payload: undefined }
  if (!isPlainObject(value)) throw error({ name, expected: 'an object', value })
  checkKeys(value, JSON_OPTION_KEYS, `${name}.`, error)
  const text = (key: keyof JsonNames): string => {
    const v = value[key]
    if (v === undefined) return base[key]
    if (typeof v === 'string' && v.length > 0) return v
    throw error({ name: `${name}.${key}`, expected: 'a non-empty string', value: v })
  }
  const checked: CheckedJsonOptions = {
    typeKey: text('typeKey'),
    ping: text('ping'),
    pong: text('pong'),
    timestampKey: text('timestampKey'),
    payload: undefined
  }
  if (checked.ping === checked.pong) {
    throw error({ name: `${name}.pong`, expected: `a value different from ping ('${checked.ping}')`, value: checked.pong })
  }
  if (checked.typeKey === checked.timestampKey) {
    throw error({ name: `${name}.timestampKey`, expected: `a key different from typeKey ('${checked.typeKey}')`, value: checked.timestampKey })
  }
  if (value.payload !== undefined) {
    if (typeof value.payload !== 'function') throw error({ name: `${name}.payload`, expected: 'a function returning an object', value: value.payload })
    checked.payload = value.payload as CheckedJsonOptions['payload']
  }
  return checked
}
