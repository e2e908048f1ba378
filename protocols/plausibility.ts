/**
 * Plausibility of every figure in a reading, whatever the model (docs/protocols.md, "## Units and plausibility").
 *
 * Two checks, both run by `checkPlausibility`:
 * - physical bounds that no real device exceeds (a single rig's hashrate, power, temperatures, fan speed,
 *   uptime, share counts, board values), per family where it matters; NaN, ±Infinity and anything that is not a
 *   number in a numeric field fail them too;
 * - hashrate against the model's nameplate: firmware units slip by factors of 1000 (GH/s sent where MH/s is
 *   expected, TH/s fields read as GH/s); such a figure is flagged rather than stored as truth. Modest deviations
 *   (a board down, ramping, overclocked) pass.
 *
 * A figure that fails becomes null, a note names it with the value as received, the reading becomes `partial`,
 * and when the reading kept no raw reply the rejected values are kept in `raw` for diagnosis. Running the check
 * twice is harmless: a dropped figure is null the second time, so nothing is flagged again.
 */
import { lookupModel } from './models.js';
import type { Family, MinerReading } from './sample.js';

/** Above this multiple of nameplate, a figure is a unit error, not an overclock. */
export const MAX_RATIO = 30;
/** Below this share of nameplate while the miner says it is mining, a figure is a unit error, not a weak rig. */
export const MIN_RATIO = 1 / 300;

/** An inclusive range a figure must fall in. */
export interface Bound {
  min: number;
  max: number;
}

/**
 * Physical bounds. Generous on purpose: the largest single SHA-256 machines sold are a few hundred TH/s at
 * 5–10 kW (hydro/immersion); no fan spins at 30,000 rpm; no miner process runs for 30 years. A figure outside
 * these is a unit slip, an overflow or a hostile reply, never a reading.
 */
export const BOUNDS = {
  /** H/s of the rig's own algorithm; 10 PH/s is ~20× the largest single machine sold. */
  hashrate_hs: { min: 0, max: 1e16 },
  power_w: { min: 0, max: 30_000 },
  /** Chip, board, inlet and outlet temperatures. */
  temp_c: { min: -55, max: 200 },
  fan_rpm: { min: 0, max: 30_000 },
  /** 30 years. */
  uptime_s: { min: 0, max: 30 * 365.25 * 86_400 },
  /** Share, error and reject counters. */
  count: { min: 0, max: 1e13 },
  /** Sum of accepted share difficulty: 10 PH/s for 30 years is ~2.2e15; 1e17 leaves room for low-diff pools. */
  difficulty: { min: 0, max: 1e17 },
  chips: { min: 0, max: 10_000 },
  frequency_mhz: { min: 0, max: 10_000 },
} as const satisfies Record<string, Bound>;

/** Tighter bounds for families whose hardware is small (a Bitaxe is one to a few ASICs on a USB-C sized board). */
export const FAMILY_BOUNDS: Partial<Record<Family, Partial<Record<keyof typeof BOUNDS, Bound>>>> = {
  bitaxe: { hashrate_hs: { min: 0, max: 5e13 }, power_w: { min: 0, max: 500 } },
};

/** The bound that applies to `kind` for `family`. */
export function boundFor(kind: keyof typeof BOUNDS, family: Family): Bound {
  return FAMILY_BOUNDS[family]?.[kind] ?? BOUNDS[kind];
}

/** True when `v` is a finite number inside `b`. */
export function withinBound(v: unknown, b: Bound): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= b.min && v <= b.max;
}

export interface PlausibilityResult {
  /** Field paths dropped, e.g. "hashrate_hs", "boards[1].temp_chip_c", "fans[0].rpm". */
  flagged: string[];
}

const hs = (v: number) => `${v.toExponential(3)} H/s`;

const num = (n: number) => (Math.abs(n) >= 1e6 ? n.toExponential() : String(n));

function shown(v: unknown): string {
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v;
}

type Rejected = Record<string, unknown>;

/** Null every figure outside its physical bound; returns the flagged paths. */
function flagOutOfBounds(reading: MinerReading, rejected: Rejected): string[] {
  const family = reading.identity.family;
  const flagged: string[] = [];
  const check = <T extends object>(
    obj: T,
    key: keyof T & string,
    kind: keyof typeof BOUNDS,
    path: string,
  ) => {
    const v = (obj as Record<string, unknown>)[key];
    if (v === null || v === undefined) return;
    const b = boundFor(kind, family);
    if (withinBound(v, b)) return;
    const why =
      typeof v !== 'number'
        ? 'not a number'
        : Number.isFinite(v)
          ? `outside ${num(b.min)}..${num(b.max)}`
          : 'not finite';
    reading.notes.push(`implausible ${path} ${shown(v)} (${why}): not stored`);
    rejected[path] = typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
    (obj as Record<string, unknown>)[key] = null;
    flagged.push(path);
  };
  check(reading, 'hashrate_hs', 'hashrate_hs', 'hashrate_hs');
  check(reading, 'hashrate_avg_hs', 'hashrate_hs', 'hashrate_avg_hs');
  check(reading, 'hashrate_nominal_hs', 'hashrate_hs', 'hashrate_nominal_hs');
  check(reading, 'temp_board_max_c', 'temp_c', 'temp_board_max_c');
  check(reading, 'temp_chip_max_c', 'temp_c', 'temp_chip_max_c');
  check(reading, 'temp_inlet_c', 'temp_c', 'temp_inlet_c');
  check(reading, 'temp_outlet_c', 'temp_c', 'temp_outlet_c');
  check(reading, 'power_w', 'power_w', 'power_w');
  check(reading, 'uptime_s', 'uptime_s', 'uptime_s');
  check(reading, 'shares_accepted', 'count', 'shares_accepted');
  check(reading, 'shares_rejected', 'count', 'shares_rejected');
  check(reading, 'shares_stale', 'count', 'shares_stale');
  check(reading, 'hw_errors', 'count', 'hw_errors');
  check(reading, 'difficulty_accepted', 'difficulty', 'difficulty_accepted');
  if (reading.power_w === null && reading.power_source !== null && flagged.includes('power_w')) {
    reading.power_source = null;
  }
  for (const [i, b] of (Array.isArray(reading.boards) ? reading.boards : []).entries()) {
    const p = `boards[${i}]`;
    check(b, 'hashrate_hs', 'hashrate_hs', `${p}.hashrate_hs`);
    check(b, 'hashrate_nominal_hs', 'hashrate_hs', `${p}.hashrate_nominal_hs`);
    check(b, 'temp_board_c', 'temp_c', `${p}.temp_board_c`);
    check(b, 'temp_chip_c', 'temp_c', `${p}.temp_chip_c`);
    check(b, 'temp_inlet_c', 'temp_c', `${p}.temp_inlet_c`);
    check(b, 'temp_outlet_c', 'temp_c', `${p}.temp_outlet_c`);
    check(b, 'chips', 'chips', `${p}.chips`);
    check(b, 'chips_expected', 'chips', `${p}.chips_expected`);
    check(b, 'hw_errors', 'count', `${p}.hw_errors`);
    check(b, 'frequency_mhz', 'frequency_mhz', `${p}.frequency_mhz`);
    check(b, 'power_w', 'power_w', `${p}.power_w`);
  }
  for (const [i, f] of (Array.isArray(reading.fans) ? reading.fans : []).entries()) {
    check(f, 'rpm', 'fan_rpm', `fans[${i}].rpm`);
  }
  for (const [i, pool] of (Array.isArray(reading.pools) ? reading.pools : []).entries()) {
    check(pool, 'accepted', 'count', `pools[${i}].accepted`);
    check(pool, 'rejected', 'count', `pools[${i}].rejected`);
    check(pool, 'stale', 'count', `pools[${i}].stale`);
  }
  return flagged;
}

function implausible(value: number | null, nameplate: number): boolean {
  if (value === null || value <= 0) return false;
  const ratio = value / nameplate;
  return ratio > MAX_RATIO || ratio < MIN_RATIO;
}

function flagAgainstNameplate(reading: MinerReading, rejected: Rejected): string[] {
  const nominal = reading.hashrate_nominal_hs;
  const nameplate = lookupModel(reading.identity.model)?.hashrate_hs ?? nominal;
  if (typeof nameplate !== 'number' || !Number.isFinite(nameplate) || nameplate <= 0) return [];
  const flagged: string[] = [];
  const check = (field: 'hashrate_hs' | 'hashrate_avg_hs') => {
    const v = reading[field];
    if (!implausible(v, nameplate)) return;
    reading.notes.push(
      `implausible ${field} ${hs(v!)} for ${reading.identity.model ?? 'this rig'} (nameplate ${hs(nameplate)}): likely a unit error, not stored`,
    );
    rejected[field] = v;
    reading[field] = null;
    flagged.push(field);
  };
  check('hashrate_hs');
  check('hashrate_avg_hs');
  const boards = reading.boards.length;
  if (boards > 0) {
    for (const b of reading.boards) {
      if (!implausible(b.hashrate_hs === null ? null : b.hashrate_hs * boards, nameplate)) continue;
      reading.notes.push(
        `implausible board ${b.index} hashrate ${hs(b.hashrate_hs!)}: likely a unit error, not stored`,
      );
      rejected[`boards[${b.index}].hashrate_hs`] = b.hashrate_hs;
      b.hashrate_hs = null;
      flagged.push(`boards[${b.index}].hashrate_hs`);
    }
  }
  return flagged;
}

function finish(reading: MinerReading, flagged: string[], rejected: Rejected, keepRaw = true): void {
  if (flagged.length === 0) return;
  if (reading.support === 'full') reading.support = 'partial';
  if (keepRaw && reading.raw === null) {
    reading.raw = JSON.stringify({ implausible: rejected }).slice(0, 16 * 1024);
  }
}

/** Decoder repairs that turned a non-reading (NaN, Infinity, an overflowing literal) into null. */
const NON_READING_REPAIRS = ['bare-nan-inf', 'quoted-nan-inf', 'number-overflow'];
const NON_READING_NOTE =
  'the reply held NaN, Infinity or an overflowing number in numeric fields: those figures are missing (null), not stored';

/**
 * Check `reading` in place: physical bounds first (any model), then hashrate against the nameplate when the
 * model or the miner gives one. Every sample passes here before it is shown or stored: the collector's poll,
 * `rigtel poll`, `rigtel scan` and the emulator's own checks. Idempotent.
 */
export function checkPlausibility(
  reading: MinerReading,
  opts: {
    /** Leave `raw` alone (the driver kit keeps the whole raw reply itself); default: record the rejected values. */
    keepRawReply?: boolean;
  } = {},
): PlausibilityResult {
  const rejected: Rejected = {};
  const flagged = flagOutOfBounds(reading, rejected);
  flagged.push(...flagAgainstNameplate(reading, rejected));
  const power = reading.power_w;
  if (flagImplausiblePower(reading).length > 0) {
    flagged.push('power_w');
    rejected['power_w'] = power;
  }
  // The decoder already nulled NaN/Infinity; the sample must still say so and not pass as full.
  const nonReadings = (Array.isArray(reading.repairs) ? reading.repairs : []).filter((r) =>
    NON_READING_REPAIRS.includes(r),
  );
  if (nonReadings.length > 0 && !reading.notes.includes(NON_READING_NOTE)) {
    reading.notes.push(NON_READING_NOTE);
    flagged.push(...nonReadings.map((r) => `repair:${r}`));
    rejected['repairs'] = nonReadings;
  }
  finish(reading, flagged, rejected, opts.keepRawReply !== true);
  return { flagged };
}

/**
 * The nameplate check alone (kept for callers that only want it). Returns the names of the fields flagged.
 * Readings with no known nameplate are left alone.
 */
export function flagImplausibleHashrate(reading: MinerReading): string[] {
  const rejected: Rejected = {};
  const flagged = flagAgainstNameplate(reading, rejected);
  finish(reading, flagged, rejected);
  return flagged;
}

/** Beyond this factor either way of the model's nameplate efficiency at the reported hashrate, watts are wrong. */
export const POWER_EFFICIENCY_FACTOR = 4;

/**
 * Check the rig's own power figure against the model's nameplate efficiency at the hashrate it reports
 * (docs/protocols.md, "## Units and plausibility"): 34.65 W from an S9 hashing 11.8 TH/s is 3 J/TH where the
 * model is built for about 98 J/TH — a firmware computing from a wrong input, not a measurement. Such a figure
 * becomes null with a note and the reading `partial`. Returns the names of the fields that were flagged.
 */
export function flagImplausiblePower(reading: MinerReading): string[] {
  const spec = lookupModel(reading.identity.model);
  const watts = reading.power_w;
  const hashrate = reading.hashrate_hs ?? reading.hashrate_avg_hs;
  if (!spec || watts === null || hashrate === null || !(hashrate > 0) || !(spec.hashrate_hs > 0)) return [];
  const expected = (spec.power_w * hashrate) / spec.hashrate_hs;
  const ratio = watts / expected;
  if (ratio >= 1 / POWER_EFFICIENCY_FACTOR && ratio <= POWER_EFFICIENCY_FACTOR) return [];
  reading.notes.push(
    `implausible power_w ${watts} W for ${spec.name} at ${hs(hashrate)} (nameplate ${spec.power_w} W at ${hs(spec.hashrate_hs)}, so about ${Math.round(expected)} W expected): not stored`,
  );
  reading.power_w = null;
  reading.power_source = null;
  if (reading.support === 'full') reading.support = 'partial';
  return ['power_w'];
}
