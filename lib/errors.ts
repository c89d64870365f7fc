import createError from '@fastify/error'

export const FST_ERR_WS_HEARTBEAT_INVALID_OPTION = createError<[string, string, string]>(
  'FST_ERR_WS_HEARTBEAT_INVALID_OPTION',
  'fastify-ws-heartbeat: invalid option "%s": expected %s, received %s',
  500,
  TypeError
)

export const FST_ERR_WS_HEARTBEAT_REGISTRATION_ORDER = createError(
  'FST_ERR_WS_HEARTBEAT_REGISTRATION_ORDER',
  'fastify-ws-heartbeat: register @fastify/websocket before fastify-ws-heartbeat, or leave it out: ' +
    'fastify-ws-heartbeat registered it already (pass its options as the "websocket" option)',
  500
)
