// parlor-client: the JavaScript client library for parlor (protocol/PROTOCOL.md, protocol/ADMIN.md).

export {
  ParlorError, Emitter, TokenBucket, backoffDelay, ERROR_CODES, DEFAULT_BACKOFF, PLAYER_PROTOCOL,
  ADMIN_PROTOCOL,
} from './core.js';
export { ParlorClient, DEFAULT_LIMITS } from './client.js';
export { AdminClient } from './admin.js';
