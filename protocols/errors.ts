import { defineError } from '../lib/errors.js';

/** Protocol-level failures. Messages say what a site engineer can check. */
export const ProtoErrors = {
  connectRefused: defineError<[string]>(
    'RT_ERR_PROTO_CONNECT_REFUSED',
    'connection refused: nothing listens on that port (API disabled, wrong port, miner process down)',
    (addr) =>
      `${addr}: connection refused: nothing listens on that port (API disabled, wrong port or miner process down)`,
  ),
  connectTimeout: defineError<[string, number]>(
    'RT_ERR_PROTO_CONNECT_TIMEOUT',
    'no answer to the TCP connect within the timeout (host down, wrong address, firewall)',
    (addr, ms) =>
      `${addr}: no answer to the TCP connect within ${ms} ms (host down, wrong address or a firewall)`,
  ),
  unreachable: defineError<[string, string]>(
    'RT_ERR_PROTO_UNREACHABLE',
    'the network cannot reach the host',
    (addr, why) => `${addr}: cannot reach the host (${why})`,
  ),
  timeout: defineError<[string, number]>(
    'RT_ERR_PROTO_TIMEOUT',
    'connected, but the reply did not complete within the command deadline (API busy or hung)',
    (addr, ms) => `${addr}: connected, but no complete reply within ${ms} ms (miner API busy or hung)`,
  ),
  emptyReply: defineError<[string]>(
    'RT_ERR_PROTO_EMPTY_REPLY',
    'the miner accepted and closed without a byte: this host is not in its api-allow list, or the API is broken',
    (addr) =>
      `${addr}: accepted and closed without a byte: this collector is not in the miner's api-allow list, or its API is broken`,
  ),
  reset: defineError<[string]>(
    'RT_ERR_PROTO_RESET',
    'the connection was reset in the middle of the reply',
    (addr) => `${addr}: connection reset in the middle of the reply`,
  ),
  tooLarge: defineError<[string, number]>(
    'RT_ERR_PROTO_REPLY_TOO_LARGE',
    'the reply exceeded the size cap and was cut off',
    (addr, max) => `${addr}: reply exceeded ${max} bytes and was cut off`,
  ),
  decode: defineError<[string]>(
    'RT_ERR_PROTO_DECODE',
    'the reply is not JSON rigtel can read, even after the known firmware repairs',
    (why) => `reply could not be decoded: ${why}`,
  ),
  status: defineError<[string, string]>(
    'RT_ERR_PROTO_STATUS',
    'the miner answered with an error status for the command',
    (cmd, msg) => `command ${cmd} failed: ${msg}`,
  ),
  accessDenied: defineError<[string]>(
    'RT_ERR_PROTO_ACCESS_DENIED',
    'the miner refused the command (not in its api-groups / privileged access needed)',
    (cmd) => `access denied to '${cmd}' (the miner's api-groups do not allow it for this host)`,
  ),
  auth: defineError<[string]>(
    'RT_ERR_PROTO_AUTH',
    'the miner rejected the credentials',
    (addr) => `${addr}: the miner rejected the configured credentials`,
  ),
  minerDown: defineError<[string]>(
    'RT_ERR_PROTO_MINER_PROCESS_DOWN',
    'an API proxy answered but the mining process behind it is down',
    (addr) => `${addr}: the API proxy answered but the mining process is down`,
  ),
  unsupported: defineError<[string]>(
    'RT_ERR_PROTO_UNSUPPORTED',
    'the device answered but rigtel does not know this firmware or model',
    (what) => `unsupported device or firmware: ${what}`,
  ),
  aborted: defineError<[string]>(
    'RT_ERR_PROTO_ABORTED',
    'the poll was cancelled (shutdown or deadline of the whole poll)',
    (addr) => `${addr}: poll cancelled`,
  ),
} as const;
