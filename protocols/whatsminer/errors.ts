import { defineError } from '../../lib/errors.js';

/**
 * Whatsminer (MicroBT btminer) specific outcomes. Generic ones (connect refused, timeout, access denied,
 * bad credentials, error status) use `ProtoErrors` from ../errors.ts; these name what only btminer says.
 * Codes per the Whatsminer API v2.0.5 document (docs/protocols.md, "## Whatsminer").
 */
export const WhatsminerErrors = {
  /** Code 23: the miner could not load the JSON we sent ("enc json load err" for an encrypted envelope). */
  requestRejected: defineError<[string, string]>(
    'RT_ERR_WHATSMINER_REQUEST_REJECTED',
    'the Whatsminer could not read the request JSON (Code 23: wrong envelope or encryption key)',
    (cmd, msg) => `command ${cmd}: the miner could not read the request (Code 23 "${msg}")`,
  ),
  /** Code 24: the firmware wants the other request key (`command` vs `cmd`). */
  wrongKey: defineError<[string, string]>(
    'RT_ERR_WHATSMINER_WRONG_COMMAND_KEY',
    'the Whatsminer firmware expects the other JSON request key ("command" vs "cmd"), Code 24',
    (cmd, key) => `command ${cmd} sent with "${key}": firmware answered Code 24 (it wants the other key)`,
  ),
  /** Code 14: not a command this firmware knows (e.g. `get_psu` on API v1, `version` on old builds). */
  unknownCommand: defineError<[string]>(
    'RT_ERR_WHATSMINER_UNKNOWN_COMMAND',
    'this Whatsminer firmware does not know the command (Code 14 invalid cmd)',
    (cmd) => `command ${cmd} is not known to this Whatsminer firmware (Code 14)`,
  ),
  /** Code 136: 32 tokens per IP were used up (collectors behind one NAT, or a token per poll). */
  tokenLimit: defineError<[string]>(
    'RT_ERR_WHATSMINER_TOKEN_LIMIT',
    'the Whatsminer refused a new token: too many tokens for this IP (Code 136, 32 per IP / 30 min)',
    (addr) => `${addr}: token over max times (Code 136): wait 30 minutes or reuse the token`,
  ),
  /** Code 137 or a reply we cannot decrypt: the AES/base64 envelope is broken on one side. */
  envelope: defineError<[string]>(
    'RT_ERR_WHATSMINER_ENVELOPE',
    'the encrypted Whatsminer envelope could not be decoded (base64 / AES / padding)',
    (why) => `encrypted Whatsminer envelope could not be decoded: ${why}`,
  ),
  /** API v3 (port 4433) replied with `code` ≠ 0. */
  v3Error: defineError<[string, number, string]>(
    'RT_ERR_WHATSMINER_V3_ERROR',
    'the Whatsminer API v3 (port 4433) answered with an error code',
    (cmd, code, msg) => `API v3 ${cmd} failed: code ${code} ${msg}`,
  ),
  /** Nothing listens on 4028 nor on 4433: the API is switched off (docs/protocols.md, "## Whatsminer"). */
  apiDisabled: defineError<[string]>(
    'RT_ERR_WHATSMINER_API_DISABLED',
    'neither API v2 (4028) nor API v3 (4433) accepts connections: enable the API in WhatsMinerTool or the web UI',
    (host) =>
      `${host}: connection refused on both the v2 and v3 API ports: enable the API in WhatsMinerTool or the web UI`,
  ),
  /** A v3 frame whose length prefix or body is not what the protocol says. */
  badFrame: defineError<[string]>(
    'RT_ERR_WHATSMINER_BAD_FRAME',
    'a Whatsminer API v3 frame is malformed (length prefix or body)',
    (why) => `malformed Whatsminer v3 frame: ${why}`,
  ),
} as const;
