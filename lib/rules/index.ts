/**
 * The rules both ends of a connection follow, in one browser-safe module (no Buffer, no
 * node: imports) used by the server, its drain and the client: the JSON heartbeat shape and
 * codec, the size and timer limits, the shared defaults, and option validators that
 * describe a problem for each side to turn into its own error.
 */
export { MAX_HEARTBEAT_BYTES, MAX_TIMER_MS, MAX_CLOSE_REASON_BYTES, HEARTBEAT_DEFAULTS, utf8Length, isSendableCloseCode } from './limits.js'
export { DEFAULT_JSON_NAMES, JsonCodec, encodePing, encodePong, heartbeatKind, heartbeatTimestamp, isJsonSpace, readHeartbeat } from './json.js'
export type { HeartbeatKind, JsonHeartbeat, JsonNames } from './json.js'
export { JSON_OPTION_KEYS, checkDuration, checkJsonOptions, checkKeys, checkLimit, isPlainObject } from './validate.js'
export type { CheckedJsonOptions, OptionError, OptionProblem } from './validate.js'
export type { Clock, Timer } from './clock.js'
