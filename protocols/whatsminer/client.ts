/**
 * Whatsminer transport: API v2 reads over TCP 4028 (plain JSON, NUL-or-EOF framed reply) and API v3 reads over
 * TCP 4433 (4-byte little-endian length + JSON both ways). Read-only: no command here needs a token.
 */
import type { RtError } from '../../lib/errors.js';
import { type PollTarget, tcpRequest } from '../kit/index.js';
import { decodeWhatsminer, type Json, replyError, splitJoined } from './decode.js';
import { WhatsminerErrors } from './errors.js';
import { v3Request } from './frame.js';
import { v3Msg } from './parse-v3.js';

/** Request key: cgminer 4.9.2 builds need "command" (Code 24 on "cmd", fixture
 * whatsminer_m30s_pools-summary-edevs.txt); btminer's own `get_*`/`status` were captured answering "cmd". */
export type RequestKey = 'cmd' | 'command';

export const otherKey = (k: RequestKey): RequestKey => (k === 'cmd' ? 'command' : 'cmd');

export interface V2Reply {
  body: Json;
  repairs: string[];
  /** Reply text as received (for `raw` on partial samples). */
  text: string;
  /** The key the firmware accepted. */
  key: RequestKey;
}

export const DEFAULT_V3_PORT = 4433;

/** One v2 request/reply; no STATUS check (a joined reply has no top-level STATUS). */
export async function v2Exchange(
  target: PollTarget,
  request: Record<string, Json>,
  signal: AbortSignal,
  port = target.port,
): Promise<{ body: Json; repairs: string[]; text: string }> {
  const reply = await tcpRequest({
    host: target.host,
    port,
    payload: JSON.stringify(request),
    connectTimeoutMs: target.connectTimeoutMs,
    deadlineMs: target.commandTimeoutMs,
    maxBytes: target.maxReplyBytes,
    framing: 'nul-or-eof',
    signal,
  });
  const text = reply.bytes.toString('utf8');
  const decoded = decodeWhatsminer(reply.bytes);
  return { body: decoded.value, repairs: decoded.repairs, text };
}

/**
 * One v2 read command, STATUS-checked. On Code 24 ("Missing JSON 'command'") it retries once with the other key,
 * so callers can cache whichever key the firmware accepted. Throws the named error of a failed reply.
 */
export async function v2Command(
  target: PollTarget,
  cmd: string,
  signal: AbortSignal,
  key: RequestKey = 'command',
): Promise<V2Reply> {
  const addr = `${target.host}:${target.port}`;
  let used = key;
  let res = await v2Exchange(target, { [used]: cmd }, signal);
  let err: RtError | null = replyError(cmd, res.body, addr, used);
  if (err && WhatsminerErrors.wrongKey.is(err)) {
    used = otherKey(used);
    res = await v2Exchange(target, { [used]: cmd }, signal);
    err = replyError(cmd, res.body, addr, used);
  }
  if (err) throw err;
  return { ...res, key: used };
}

export interface V2JoinedReply {
  parts: Map<string, Json>;
  repairs: string[];
  text: string;
  key: RequestKey;
}

/**
 * `summary+devs+pools` in one request (cgminer ≥ 3.12.1 join). Returns each command's own body (their STATUS is
 * checked by the parsers). Throws the named error when the firmware refuses the join as a whole.
 */
export async function v2Joined(
  target: PollTarget,
  commands: string[],
  signal: AbortSignal,
  key: RequestKey = 'command',
): Promise<V2JoinedReply> {
  const addr = `${target.host}:${target.port}`;
  const joined = commands.join('+');
  let used = key;
  let res = await v2Exchange(target, { [used]: joined }, signal);
  let parts = splitJoined(res.body, commands);
  if (!parts) {
    let err = replyError(joined, res.body, addr, used);
    if (err && WhatsminerErrors.wrongKey.is(err)) {
      used = otherKey(used);
      res = await v2Exchange(target, { [used]: joined }, signal);
      parts = splitJoined(res.body, commands);
      if (!parts) err = replyError(joined, res.body, addr, used);
    }
    if (!parts) throw err ?? WhatsminerErrors.unknownCommand(joined);
  }
  return { parts, repairs: res.repairs, text: res.text, key: used };
}

export interface V3Reply {
  body: Json;
  text: string;
}

/** One v3 read (`get.device.info`, `get.miner.status` + param) over the length-prefixed framing, code-checked. */
export async function v3Command(
  target: PollTarget,
  cmd: string,
  param: string | undefined,
  signal: AbortSignal,
  port = DEFAULT_V3_PORT,
): Promise<V3Reply> {
  const reply = await tcpRequest({
    host: target.host,
    port,
    payload: v3Request(cmd, param),
    connectTimeoutMs: target.connectTimeoutMs,
    deadlineMs: target.commandTimeoutMs,
    maxBytes: target.maxReplyBytes,
    framing: 'length-le32',
    signal,
  });
  const text = reply.bytes.toString('utf8');
  const { value } = decodeWhatsminer(reply.bytes);
  v3Msg(param ? `${cmd} ${param}` : cmd, value);
  return { body: value, text };
}
