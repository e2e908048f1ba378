/**
 * Tolerant readers for cgminer-style field values: numbers arrive as numbers, strings ("5904.657"), padded
 * strings ("  5.0000", minera#194), empty strings for absent chains, or with units ("1600M" antminer_e3_stats.txt,
 * "456.78 (AB)" antminer_s9hiveon_stats.txt). Missing is null, never 0.
 */

export type Obj = Record<string, unknown>;

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

/** Rounds away float noise from unit scaling (13883.81 GH × 1e9 → 13883810000000). */
export function scale(v: number | null, factor: number): number | null {
  if (v === null) return null;
  const out = Math.round(v * factor);
  // A garbage value (1e308) scaled past the float range is no reading.
  return Number.isFinite(out) ? out : null;
}
