/**
 * The STATUS section of a cgminer-style reply (docs/protocols.md, "## cgminer API framing"). It comes as an array (cgminer), an object
 * (Bitmain new_api, Whatsminer status: whatsminer_m31s_status.txt) or a bare string (Whatsminer token replies:
 * whatsminer_unknown_get-token.txt); `Msg` is a string or an object.
 */
import type { RtError } from '../../lib/errors.js';
import { ProtoErrors } from '../errors.js';

export interface ReplyStatus {
  /** S success, I info, W warning, E error, F fatal; other letters as sent. */
  status: string;
  code: number | null;
  /** Msg when it is a string. */
  msg: string | null;
  /** Msg when it is an object (Whatsminer). */
  msgObject: Record<string, unknown> | null;
  description: string | null;
  /** Miner clock, Unix seconds (or uptime on some firmwares): never a sample timestamp. */
  when: number | null;
}

/** cgminer Codes a caller may want to match. */
export const CGMINER_CODE = {
  noPools: 8,
  noDevices: 10,
  invalidCommand: 14,
  invalidJson: 23,
  missingCommand: 24,
  accessDenied: 45,
} as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Reads the STATUS of a reply body; null when the body has none. */
export function readStatus(body: unknown): ReplyStatus | null {
  if (!isRecord(body)) return null;
  const raw = body['STATUS'];
  if (typeof raw === 'string') {
    // Whatsminer: STATUS is the letter, Code/Msg/Description are top-level siblings.
    return statusFrom({ ...body, STATUS: raw });
  }
  if (Array.isArray(raw)) return isRecord(raw[0]) ? statusFrom(raw[0]) : null;
  if (isRecord(raw)) return statusFrom(raw);
  return null;
}

function statusFrom(o: Record<string, unknown>): ReplyStatus {
  const msg = o['Msg'] ?? o['msg'];
  const description = o['Description'];
  return {
    status: typeof o['STATUS'] === 'string' ? o['STATUS'].trim().toUpperCase() : '',
    code: toNumber(o['Code'] ?? o['code']),
    msg: typeof msg === 'string' ? msg : null,
    msgObject: isRecord(msg) ? msg : null,
    description: typeof description === 'string' && description !== '' ? description : null,
    when: toNumber(o['When'] ?? o['when']),
  };
}

export type StatusVerdict =
  /** Success (S/I/W) or no STATUS at all. */
  | { kind: 'ok'; status: ReplyStatus | null }
  /** Codes 8 (No pools) and 10 (No ASCs / No PGAs): STATUS E, but the answer is "none", not a failure. */
  | { kind: 'empty'; status: ReplyStatus }
  | { kind: 'error'; status: ReplyStatus; error: RtError };

/** Classifies a reply body for `command`. Never throws. */
export function judgeStatus(command: string, body: unknown): StatusVerdict {
  const status = readStatus(body);
  if (status === null) return { kind: 'ok', status: null };
  if (status.status === 'S' || status.status === 'I' || status.status === 'W' || status.status === '') {
    return { kind: 'ok', status };
  }
  if (status.code === CGMINER_CODE.noPools || status.code === CGMINER_CODE.noDevices) {
    return { kind: 'empty', status };
  }
  const details = { code: status.code, msg: status.msg, status: status.status };
  if (status.code === CGMINER_CODE.accessDenied) {
    return { kind: 'error', status, error: ProtoErrors.accessDenied.with({ details }, command) };
  }
  const msg =
    status.msg ?? (status.msgObject ? JSON.stringify(status.msgObject).slice(0, 200) : 'no message');
  return {
    kind: 'error',
    status,
    error: ProtoErrors.status.with(
      { details },
      command,
      `STATUS ${status.status} Code ${status.code ?? '?'}: ${msg}`,
    ),
  };
}

/** Throws the status error of a reply, or returns whether it is an "empty" answer (Codes 8/10). */
export function checkStatus(command: string, body: unknown): { empty: boolean; status: ReplyStatus | null } {
  const v = judgeStatus(command, body);
  if (v.kind === 'error') throw v.error;
  return { empty: v.kind === 'empty', status: v.status };
}
