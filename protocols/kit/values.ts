/**
 * The kit's one set of value readers. Tolerant readers for cgminer-style field values: numbers arrive as numbers, strings ("5904.657"), padded
 * strings ("  5.0000", minera#194), empty strings for absent chains, or with units ("1600M" antminer_e3_stats.txt,
 * "456.78 (AB)" antminer_s9hiveon_stats.txt). Missing is null, never 0.
 */

import type { MinerReading, PoolReading } from '../sample.js';

export type Obj = Record<string, unknown>;
export type Json = unknown;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A finite number from a number or a numeric string; null otherwise. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    const t = v.trim();
    // Decimal only: Number() would also take "0x1F", "Infinity" or "1_000", none of which a miner means.
    if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** The leading number of a string with a unit or note after it ("456.78 (AB)", "1600M", "3250 W"). */
export function leadingNum(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(-?\d+(?:\.\d+)?)/.exec(v);
  return m ? Number(m[1]) : null;
}

/** A number > 0, else null (for fields where 0 means "no such slot / not reported"). */
export function positive(v: unknown): number | null {
  const n = num(v);
  return n !== null && n > 0 ? n : null;
}

export function str(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t === '' ? null : t;
}

/** true/false, "true"/"false", "Y"/"N" (Enabled), 1/0. */
export function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === 'y' || t === 'yes') return true;
    if (t === 'false' || t === 'n' || t === 'no') return false;
  }
  return null;
}

/** The first object of a section array (`SUMMARY[0]`), or null. */
export function firstRow(body: unknown, section: string): Obj | null {
  if (!isObj(body)) return null;
  const s = body[section];
  if (Array.isArray(s)) return isObj(s[0]) ? s[0] : null;
  return isObj(s) ? s : null;
}

export function rows(body: unknown, section: string): Obj[] {
  if (!isObj(body)) return [];
  const s = body[section];
  if (Array.isArray(s)) return s.filter(isObj);
  return isObj(s) ? [s] : [];
}

/** "H:MM:SS" (bmminer pools `Last Share Time`, antminer_l3plus_pools.txt) → seconds; null otherwise. */
export function hmsToSeconds(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+):(\d{1,2}):(\d{1,2})\s*$/.exec(v);
  if (!m) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** Sum of the non-null values, or null when all are null. */
export function sumOrNull(values: Array<number | null>): number | null {
  let total: number | null = null;
  for (const v of values) if (v !== null) total = (total ?? 0) + v;
  return total !== null && Number.isFinite(total) ? total : null;
}

export function maxOrNull(values: Array<number | null>): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && (m === null || v > m)) m = v;
  return m;
}

/**
 * Unit scaling to whole base units (13883.81 GH × 1e9 → 13883810000000 H/s): rounding removes float noise; a
 * garbage value (1e308) scaled past the float range is no reading.
 */
export function scale(v: number | null, factor: number): number | null {
  if (v === null) return null;
  const out = Math.round(v * factor);
  return Number.isFinite(out) ? out : null;
}

/** Aliases kept for the parsers' wording. */
export const maxOf = maxOrNull;
export const sumOf = sumOrNull;

/** Integer counter; negative values are "not available" (docs/protocols.md, "## Units and plausibility"). */
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

/**
 * Standard cgminer `pools` → PoolReading[] (POOLS, or POOL0/POOL1 sections). POOL is 0-based in cgminer and
 * 1-based on Whatsminer btminer (whatsminer_m31s_pools.txt): the firmware's own index is kept.
 */
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

/**
 * Rig state from what was read. An explicit firmware signal (`sleeping`, `ramping`) decides; without one, a
 * reading with no hashrate, or 0, is an `error` marked `state_inferred` with a note — never `mining`, and never
 * `sleeping` on the figures alone (docs/protocols.md, "## Units and plausibility").
 */
export function settleState(r: MinerReading, flags: { sleeping?: boolean; ramping?: boolean } = {}): void {
  r.state_inferred = false;
  if (flags.sleeping) r.state = 'sleeping';
  else if (r.hashrate_hs === null) {
    r.state = 'error';
    r.state_inferred = true;
    r.notes.push('no hashrate figure in the replies');
  } else if (flags.ramping) r.state = 'ramping';
  else if (r.hashrate_hs === 0) {
    r.state = 'error';
    r.state_inferred = true;
    r.notes.push(
      'the miner reports a hashrate of 0 and no sleep signal: idle or failed cannot be told apart',
    );
  } else r.state = 'mining';
}

/** Share totals over all pools (what SUMMARY would say), for firmwares polled without `summary`. */
export function poolTotals(body: unknown): {
  accepted: number | null;
  rejected: number | null;
  stale: number | null;
  difficulty_accepted: number | null;
} {
  const list = section(body, 'POOLS', 'POOL');
  return {
    accepted: sumOrNull(list.map((p) => num(p['Accepted']))),
    rejected: sumOrNull(list.map((p) => num(p['Rejected']))),
    stale: sumOrNull(list.map((p) => num(p['Stale']))),
    difficulty_accepted: sumOrNull(list.map((p) => num(p['Difficulty Accepted']))),
  };
}

/** Without a summary, share counters come from the pools' own totals (difficulty only if nothing set it). */
export function applyPoolTotals(r: MinerReading, poolsBody: unknown): void {
  const t = poolTotals(poolsBody);
  r.shares_accepted = t.accepted;
  r.shares_rejected = t.rejected;
  r.shares_stale = t.stale;
  r.difficulty_accepted ??= t.difficulty_accepted;
}

/** "Antminer S9 (vnish 3.8.6)" → model "Antminer S9", suffix "vnish 3.8.6". Trailing spaces and `\n…` cut. */
export function splitType(type: string | null): { model: string | null; suffix: string | null } {
  if (!type) return { model: null, suffix: null };
  const firstLine = type.split('\n')[0]!.trim();
  const m = /^(.*?)\s*\(([^)]*)\)\s*$/.exec(firstLine);
  if (m) return { model: m[1]!.trim() || null, suffix: m[2]!.trim() };
  return { model: firstLine || null, suffix: null };
}

/** Chips marked dead (`x`) in a Bitmain `chain_acsN` status string ("oooo xooo", " xx xx": one letter a chip). */
export function deadChips(acs: unknown): number {
  return typeof acs === 'string' ? (acs.match(/x/gi) ?? []).length : 0;
}
