/**
 * Whatsminer reply decoding: bytes → JSON with named repairs, and the btminer-specific STATUS rules.
 *
 * btminer answers cgminer-named commands (`summary`, `devs`, `pools`) with the usual cgminer shape (STATUS array)
 * but its own commands (`get_*`, `status`, `get_token`) with a flat object whose `STATUS` is a string and whose
 * `Msg` may be an object (fixtures whatsminer_m31s_status.txt, whatsminer_unknown_get-token.txt).
 */
import type { RtError } from '../../lib/errors.js';
import { decodeReply, num, ProtoErrors } from '../kit/index.js';
import { WhatsminerErrors } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Decoded {
  value: Json;
  /** Named repairs applied, in order; empty when the reply was strict JSON. */
  repairs: string[];
}

/**
 * API 2.0.4 get_error_code: "error_code":["110":"2021-02-01 10:00:00","111":"…"] — key/value pairs inside a list
 * (docs/protocols.md, "## Whatsminer", pyasic _load_api_data). The generic cgminer decoder does not know it: each pair becomes
 * its own object.
 */
export const ERROR_CODE_LIST_REPAIR = 'error-code-list-as-object';

function repairErrorCodeList(text: string): string {
  return text.replace(/"error_code"\s*:\s*\[((?:\s*"[^"]*"\s*:\s*"[^"]*"\s*,?)+)\]/g, (_m, body: string) => {
    const pairs = [...body.matchAll(/"([^"]*)"\s*:\s*"([^"]*)"/g)].map((p) => `{"${p[1]}":"${p[2]}"}`);
    return `"error_code":[${pairs.join(',')}]`;
  });
}

/**
 * Bytes → JSON. Uses the shared cgminer decoder (strict first, then its named repairs: the `\'` escape of
 * whatsminer_m20s_summary_2.txt is its `invalid-escape`, plus trailing commas, raw control characters, …), and
 * adds the btminer-only error_code repair when that alone cannot read the reply.
 */
export function decodeWhatsminer(input: Buffer | string): Decoded {
  try {
    const d = decodeReply(input);
    return { value: d.value as Json, repairs: d.repairs };
  } catch (err) {
    if (!ProtoErrors.decode.is(err)) throw err;
    const text = typeof input === 'string' ? input : input.toString('utf8');
    const fixed = repairErrorCodeList(text);
    if (fixed === text) throw err;
    const d = decodeReply(fixed);
    return { value: d.value as Json, repairs: [ERROR_CODE_LIST_REPAIR, ...d.repairs] };
  }
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The kit's one set of value readers (true/false, "true"/"false", Y/N, 1/0). */
export { bool, num } from '../kit/index.js';

/** A reading where negative means "not available" (btminer `Power: -1`, docs/protocols.md, "## Whatsminer" and docs/protocols.md, "## Whatsminer"). */
export function nonNeg(v: unknown): number | null {
  const n = num(v);
  return n === null || n < 0 ? null : n;
}

export function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** `"'20210109.22.REL'"` → `20210109.22.REL`: btminer wraps firmware strings in single quotes. */
export function stripQuotes(v: unknown): string | null {
  const s = str(v);
  if (s === null) return null;
  const t = s
    .trim()
    .replace(/^'+|'+$/g, '')
    .trim();
  return t === '' ? null : t;
}

/** `true`, `"true"`, `"Y"`, 1 → true; the false forms → false; anything else → null. */

export interface StatusInfo {
  /** S, I, W, E, F, or whatever the firmware put there. */
  status: string | null;
  code: number | null;
  /** Text message, or null when Msg is an object (then see `msgObject`). */
  msg: string | null;
  msgObject: JsonObject | null;
  description: string | null;
  /** Which shape the STATUS had. */
  shape: 'array' | 'object' | 'string' | 'missing';
}

/** Read STATUS in any of its three shapes (docs/protocols.md, "## cgminer API framing", "## Whatsminer"). */
export function statusOf(body: Json): StatusInfo {
  const none: StatusInfo = {
    status: null,
    code: null,
    msg: null,
    msgObject: null,
    description: null,
    shape: 'missing',
  };
  if (!isObject(body)) return none;
  const s = body.STATUS;
  let holder: JsonObject | null = null;
  let shape: StatusInfo['shape'] = 'missing';
  if (Array.isArray(s) && isObject(s[0])) {
    holder = s[0];
    shape = 'array';
  } else if (isObject(s)) {
    holder = s;
    shape = 'object';
  } else if (typeof s === 'string') {
    holder = body;
    shape = 'string';
  }
  if (!holder) return none;
  const status = shape === 'string' ? (s as string) : str(holder.STATUS);
  const msgRaw = holder.Msg ?? holder.msg;
  return {
    status,
    code: num(holder.Code),
    msg: typeof msgRaw === 'string' ? msgRaw : null,
    msgObject: isObject(msgRaw) ? msgRaw : null,
    description: str(holder.Description),
    shape,
  };
}

/** Codes 8 (No pools) and 10 (No ASCs) carry STATUS E but mean "empty" (docs/protocols.md, "## cgminer API framing"). */
export function isEmptyStatus(st: StatusInfo): boolean {
  return st.code === 8 || st.code === 10;
}

/**
 * The named error for a failed reply, or null when the reply is a success (S/I, the btminer OK codes
 * 131/134, or the empty-list codes 8/10). `key` is the request key that was used, for Code 24.
 */
export function replyError(
  cmd: string,
  body: Json,
  addr: string,
  key: 'cmd' | 'command' = 'command',
): RtError | null {
  const st = statusOf(body);
  if (st.shape === 'missing') {
    return ProtoErrors.decode(`reply to ${cmd} has no STATUS section`);
  }
  if (isEmptyStatus(st)) return null;
  const ok = st.status === 'S' || st.status === 'I';
  if (ok) return null;
  const msg = st.msg ?? (st.msgObject ? JSON.stringify(st.msgObject) : `status ${st.status ?? '?'}`);
  switch (st.code) {
    case 14:
      return WhatsminerErrors.unknownCommand(cmd);
    case 23:
      return WhatsminerErrors.requestRejected(cmd, msg);
    case 24:
      return WhatsminerErrors.wrongKey(cmd, key);
    case 45:
      return ProtoErrors.accessDenied(cmd);
    case 135:
      // "check token error": the sign did not match, i.e. the admin password is wrong.
      return ProtoErrors.auth(addr);
    case 136:
      return WhatsminerErrors.tokenLimit(addr);
    case 137:
      return WhatsminerErrors.envelope(`miner says base64 decode error (Code 137): ${msg}`);
    default:
      return ProtoErrors.status(cmd, st.code === null ? msg : `Code ${st.code} ${msg}`);
  }
}

/**
 * Split a joined reply (`{"summary":[{…}],"devs":[{…}],"id":1}`) into one body per command. Returns null when
 * the body is not a joined reply (e.g. a single STATUS saying the join was refused).
 */
export function splitJoined(body: Json, commands: string[]): Map<string, Json> | null {
  if (!isObject(body)) return null;
  const out = new Map<string, Json>();
  for (const cmd of commands) {
    const part = body[cmd];
    if (Array.isArray(part) && part.length > 0) out.set(cmd, part[0] as Json);
    else if (isObject(part)) out.set(cmd, part);
  }
  return out.size > 0 ? out : null;
}
