/**
 * Small helpers for reading decoded cgminer-style JSON bodies (shared by the Braiins, LuxOS, VNish, Avalon and
 * Innosilicon parsers). They never throw on odd shapes: a wrong type reads as null.
 */

import { excessiveNestingAt, MAX_NESTING_DEPTH } from '../depth.js';
import { ProtoErrors } from '../errors.js';
import type { MinerReading, PoolReading } from '../sample.js';
import { bool, isObj, num, type Obj, str } from './values.js';

export type Json = unknown;
export type { Obj } from './values.js';
export { bool, isObj, num, str } from './values.js';

/** Integer counter; negative values are "not available" (protocols.md §6 item 23). */
export function count(v: unknown): number | null {
  const n = num(v);
  return n === null || n < 0 ? null : n;
}

/** Temperature with the firmware sentinels mapped to null: 0 (no sensor / empty slot), -273 (Avalon devs). */
export function temp(v: unknown): number | null {
  const n = num(v);
  if (n === null || n === 0 || n <= -273) return null;
  return n;
}

/** Fan speed: 0 and negatives mean "no fan in that slot". */
export function rpm(v: unknown): number | null {
  const n = num(v);
  return n === null || n <= 0 ? null : n;
}

export function maxOf(values: (number | null)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (v !== null && (best === null || v > best)) best = v;
  return best;
}

export function sumOf(values: (number | null)[]): number | null {
  let total: number | null = null;
  for (const v of values) if (v !== null) total = (total ?? 0) + v;
  return total;
}

/** Multiply keeping null; rounds away binary noise from unit conversion (MH/s → H/s). */
export function scale(v: number | null, factor: number): number | null {
  if (v === null) return null;
  return Math.round(v * factor * 1e3) / 1e3;
}

/**
 * Objects of one section. Accepts the standard array (`"POOLS":[...]`) and the numbered sections old
 * Innosilicon sgminer sends instead (`"POOL0":[...],"POOL1":[...]`, fixture innosilicon_a9_pools_2.txt).
 */
export function section(body: Json, name: string, numberedPrefix?: string): Obj[] {
  if (!isObj(body)) return [];
  const direct = body[name];
  if (Array.isArray(direct)) return direct.filter(isObj);
  if (isObj(direct)) return [direct];
  if (!numberedPrefix) return [];
  const out: { n: number; o: Obj }[] = [];
  for (const [key, value] of Object.entries(body)) {
    const m = new RegExp(`^${numberedPrefix}(\\d+)$`).exec(key);
    if (!m || !Array.isArray(value)) continue;
    for (const o of value) if (isObj(o)) out.push({ n: Number(m[1]), o });
  }
  return out.sort((a, b) => a.n - b.n).map((x) => x.o);
}

/** `STATUS[0]` (array form), or the object/string forms some firmwares send. */
export function statusOf(body: Json): Obj | null {
  if (!isObj(body)) return null;
  const s = body['STATUS'];
  if (Array.isArray(s)) return isObj(s[0]) ? s[0] : null;
  if (isObj(s)) return s;
  return null;
}

export function description(body: Json): string | null {
  return str(statusOf(body)?.['Description']);
}

/** Inner reply of one command in a joined `a+b+c` reply: `{"summary":[{...}],"stats":[{...}],...}`. */
export function joinedPart(body: Json, command: string): Json {
  if (!isObj(body)) return undefined;
  const part = body[command];
  if (Array.isArray(part) && isObj(part[0])) return part[0];
  return undefined;
}

/** `b4a2eb3453e4` or `B4-A2-…` or `AA:BB:…` → `b4:a2:eb:34:53:e4`; anything else → null. */
export function normMac(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const hex = s.replace(/[:\-.]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

/** Standard cgminer `pools` → PoolReading[] (POOLS or POOL0/POOL1 sections). */
export function parsePools(body: Json): PoolReading[] {
  return section(body, 'POOLS', 'POOL').map((p, i) => ({
    index: count(p['POOL']) ?? i,
    url: str(p['URL']),
    user: str(p['User']),
    status: str(p['Status']),
    active: bool(p['Stratum Active']),
    accepted: count(p['Accepted']),
    rejected: count(p['Rejected']),
    stale: count(p['Stale']),
  }));
}

/** Sum of `Difficulty Accepted` over pools, null when no pool says. */
export function poolsDifficultyAccepted(body: Json): number | null {
  return sumOf(section(body, 'POOLS', 'POOL').map((p) => num(p['Difficulty Accepted'])));
}

/** Counters every cgminer `summary` carries. Hashrate is left to the caller (its unit depends on the family). */
export function applySummaryCounters(r: MinerReading, s: Obj): void {
  r.uptime_s = count(s['Elapsed']) ?? r.uptime_s;
  r.shares_accepted = count(s['Accepted']) ?? r.shares_accepted;
  r.shares_rejected = count(s['Rejected']) ?? r.shares_rejected;
  r.shares_stale = count(s['Stale']) ?? r.shares_stale;
  r.hw_errors = count(s['Hardware Errors']) ?? r.hw_errors;
  r.difficulty_accepted = num(s['Difficulty Accepted']) ?? r.difficulty_accepted;
}

/** First number of a dash-joined sensor string: `"55-66-51-60"` → max 66; `"-8--11-10-12"` → 12; zeros → null. */
export function maxOfDashList(v: unknown): number | null {
  const s = str(v);
  if (!s) return null;
  // A dash after a number is a separator, a dash before one is a sign: "2--1-20-22" is 2, -1, 20, 22.
  const values: (number | null)[] = [];
  let rest = s;
  while (rest.length) {
    const m = /^(-?\d+(?:\.\d+)?)(?:-|$)/.exec(rest);
    if (!m) return null;
    const n = Number(m[1]);
    values.push(n === 0 ? null : n);
    rest = rest.slice(m[0].length);
  }
  return maxOf(values);
}

const RAW_CAP = 16 * 1024;

/** Raw replies kept on partial/unsupported readings, capped. */
export function capRaw(parts: Record<string, unknown>): string {
  const text = JSON.stringify(parts);
  return text.length > RAW_CAP ? `${text.slice(0, RAW_CAP)}…[cut at ${RAW_CAP} chars]` : text;
}

/**
 * cgminer's plain-text reply (sent when the request is a bare word, fixture avalon_mini3_version.txt):
 * `STATUS=S,When=…,Code=22,…|VERSION,CGMiner=4.11.1,…|` → `{STATUS:[{…}], VERSION:[{…}]}`.
 * Values stay strings. Used only as a fallback when the reply is not JSON.
 */
export function parsePipeText(text: string): Obj | null {
  const trimmed = text.replace(/\0.*$/s, '').trim();
  if (!trimmed.includes('=') || trimmed.startsWith('{')) return null;
  const out: Obj = {};
  for (const segment of trimmed.split('|')) {
    if (!segment.trim()) continue;
    const fields = segment.split(',');
    let name: string;
    const obj: Obj = {};
    const first = fields[0]!;
    if (first.includes('=')) {
      // STATUS=S: the section name is the key of the first pair.
      const eq = first.indexOf('=');
      name = first.slice(0, eq);
      obj[name] = first.slice(eq + 1);
    } else name = first;
    for (const f of fields.slice(1)) {
      const eq = f.indexOf('=');
      if (eq === -1) continue;
      obj[f.slice(0, eq)] = f.slice(eq + 1);
    }
    const list = (out[name] as Obj[] | undefined) ?? [];
    list.push(obj);
    out[name] = list;
  }
  return Object.keys(out).length ? out : null;
}

/**
 * Decode reply text: strict JSON, else JSON after the one repair these families need (`}{` between STATS
 * objects, vnish_s9_stats.txt), else the plain-text format. The full repair set lives in protocols/cgminer.
 */
export function decodeLoose(text: string): { value: Obj; repairs: string[] } | null {
  const clean = text.replace(/\0[\s\S]*$/, '').trim();
  if (excessiveNestingAt(clean) !== -1) {
    throw ProtoErrors.decode(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  const tryJson = (t: string): Obj | null => {
    try {
      const v = JSON.parse(t);
      return isObj(v) ? v : null;
    } catch {
      return null;
    }
  };
  const strict = tryJson(clean);
  if (strict) return { value: strict, repairs: [] };
  if (clean.includes('}{')) {
    const repaired = tryJson(clean.replace(/\}\s*\{/g, '},{'));
    if (repaired) return { value: repaired, repairs: ['missing-comma-between-objects'] };
  }
  const text2 = parsePipeText(clean);
  return text2 ? { value: text2, repairs: ['plain-text-format'] } : null;
}

/** Rig state from what was read; a reading with no hashrate at all is an `error` with a note, never `mining`. */
export function settleState(r: MinerReading, flags: { sleeping?: boolean; ramping?: boolean } = {}): void {
  if (flags.sleeping) r.state = 'sleeping';
  else if (r.hashrate_hs === null) {
    r.state = 'error';
    r.notes.push('no hashrate figure in the replies');
  } else if (flags.ramping) r.state = 'ramping';
  else if (r.hashrate_hs === 0) {
    r.state = 'error';
    r.notes.push('the miner reports a hashrate of 0');
  } else r.state = 'mining';
}
