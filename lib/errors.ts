import createError from '@fastify/error'

export const FST_ERR_WS_HEARTBEAT_INVALID_OPTION = createError<[string, string, string]>(
  'FST_ERR_WS_HEARTBEAT_INVALID_OPTION',
  'fastify-ws-heartbeat: invalid option "%s": expected %s, received %s',
  500,
  TypeError
)
