/**
 * Model table: nameplate figures per miner model, for the nominal hashrate a miner does not report and for the
 * power estimate when neither a PDU nor the miner gives a figure (docs/protocols.md, "## Units and plausibility").
 *
 * `source` says where each row's numbers come from. "vendor spec" rows are the maker's published nameplate as
 * commonly listed (one stock profile; units ship in several bins, so ±5 % is normal) and were not re-checked
 * against a datasheet here; "fixture" means the hashrate is the firmware's own `total_rateideal` in a capture in
 * protocols/fixtures/real. Hashrate is in H/s of the model's own algorithm: for non-SHA-256 models that is NOT
 * comparable with bitcoin hashrate (Equihash counts Sol/s).
 */
import type { MinerReading } from './sample.js';

export type Algorithm = 'sha256' | 'scrypt' | 'x11' | 'ethash' | 'equihash' | 'tensority';

export interface ModelSpec {
  /** Normalized key (see normalizeModelKey), e.g. "s19pro", "m30s+". */
  key: string;
  /** Display name. */
  name: string;
  make: 'Bitmain' | 'MicroBT' | 'Canaan' | 'Innosilicon';
  algorithm: Algorithm;
  hashrate_hs: number;
  /** Nameplate in TH/s for SHA-256 models (null for other algorithms, whose H/s are not bitcoin hashes). */
  hashrate_ths: number | null;
  power_w: number;
  boards: number;
  /** Fans on the unit (0 for hydro / immersion models). */
  fans: number;
  source: string;
}

const T = 1e12;
const G = 1e9;
const M = 1e6;
const K = 1e3;
const SPEC = 'vendor spec (nameplate as commonly published; not re-checked against a datasheet)';

function row(
  key: string,
  name: string,
  make: ModelSpec['make'],
  algorithm: Algorithm,
  hashrate_hs: number,
  power_w: number,
  boards: number,
  fans: number,
  source = SPEC,
): ModelSpec {
  const hashrate_ths = algorithm === 'sha256' ? hashrate_hs / T : null;
  return { key, name, make, algorithm, hashrate_hs, hashrate_ths, power_w, boards, fans, source };
}

export const MODELS: readonly ModelSpec[] = [
  // Bitmain SHA-256
  row('s9', 'Antminer S9', 'Bitmain', 'sha256', 13.5 * T, 1323, 3, 2),
  row('s9i', 'Antminer S9i', 'Bitmain', 'sha256', 14 * T, 1320, 3, 2),
  row('s9j', 'Antminer S9j', 'Bitmain', 'sha256', 14.5 * T, 1350, 3, 2),
  row(
    's9k',
    'Antminer S9k',
    'Bitmain',
    'sha256',
    14 * T,
    1400,
    3,
    2,
    'fixture total_rateideal 14000 GH (antminer_s9k_stats.txt); power: vendor spec',
  ),
  row('t9+', 'Antminer T9+', 'Bitmain', 'sha256', 10.5 * T, 1432, 3, 2),
  row('s15', 'Antminer S15', 'Bitmain', 'sha256', 28 * T, 1596, 3, 2),
  row('t15', 'Antminer T15', 'Bitmain', 'sha256', 23 * T, 1541, 3, 2),
  row('s17', 'Antminer S17', 'Bitmain', 'sha256', 56 * T, 2520, 3, 2),
  row('s17pro', 'Antminer S17 Pro', 'Bitmain', 'sha256', 53 * T, 2094, 3, 2),
  row('s17+', 'Antminer S17+', 'Bitmain', 'sha256', 73 * T, 2920, 3, 2),
  row('s17e', 'Antminer S17e', 'Bitmain', 'sha256', 64 * T, 2880, 3, 2),
  row('t17', 'Antminer T17', 'Bitmain', 'sha256', 40 * T, 2200, 3, 2),
  row('t17+', 'Antminer T17+', 'Bitmain', 'sha256', 64 * T, 3200, 3, 2),
  row('s19', 'Antminer S19', 'Bitmain', 'sha256', 95 * T, 3250, 3, 4),
  row('s19pro', 'Antminer S19 Pro', 'Bitmain', 'sha256', 110 * T, 3250, 3, 4),
  row('s19jpro', 'Antminer S19j Pro', 'Bitmain', 'sha256', 100 * T, 3050, 3, 4),
  row('s19kpro', 'Antminer S19k Pro', 'Bitmain', 'sha256', 120 * T, 2760, 3, 4),
  row('s19xp', 'Antminer S19 XP', 'Bitmain', 'sha256', 140 * T, 3010, 3, 4),
  row('s19hyd', 'Antminer S19 Hydro', 'Bitmain', 'sha256', 158 * T, 5451, 4, 0),
  row('t19', 'Antminer T19', 'Bitmain', 'sha256', 84 * T, 3150, 3, 4),
  row('s21', 'Antminer S21', 'Bitmain', 'sha256', 200 * T, 3500, 3, 4),
  row('s21pro', 'Antminer S21 Pro', 'Bitmain', 'sha256', 234 * T, 3531, 3, 4),
  row('s21xp', 'Antminer S21 XP', 'Bitmain', 'sha256', 270 * T, 3645, 3, 4),
  row('s21hyd', 'Antminer S21 Hyd.', 'Bitmain', 'sha256', 335 * T, 5360, 3, 0),
  row(
    's21xphyd',
    'Antminer S21 XP Hyd.',
    'Bitmain',
    'sha256',
    473 * T,
    5676,
    3,
    0,
    'fixture total_rateideal 473000 GH (antminer_s21xphyd_stats.txt); power: vendor spec',
  ),
  row('t21', 'Antminer T21', 'Bitmain', 'sha256', 190 * T, 3610, 3, 4),
  // Bitmain other algorithms (their stats label the rate "GHS" whatever the unit: see antminer/parse.ts)
  row('l3+', 'Antminer L3+', 'Bitmain', 'scrypt', 504 * M, 800, 4, 2),
  row('l3++', 'Antminer L3++', 'Bitmain', 'scrypt', 596 * M, 1050, 4, 2),
  row('d3', 'Antminer D3', 'Bitmain', 'x11', 19.3 * G, 1350, 3, 2),
  row('e3', 'Antminer E3', 'Bitmain', 'ethash', 190 * M, 760, 3, 2),
  row('z9', 'Antminer Z9', 'Bitmain', 'equihash', 42 * K, 1150, 3, 2),
  row('z11', 'Antminer Z11', 'Bitmain', 'equihash', 135 * K, 1418, 3, 2),
  row('b3', 'Antminer B3', 'Bitmain', 'tensority', 780, 360, 3, 2),
  // MicroBT
  row('m3', 'Whatsminer M3', 'MicroBT', 'sha256', 12 * T, 2050, 3, 2),
  row('m20s', 'Whatsminer M20S', 'MicroBT', 'sha256', 68 * T, 3360, 3, 2),
  row('m30s', 'Whatsminer M30S', 'MicroBT', 'sha256', 88 * T, 3344, 3, 2),
  row('m30s+', 'Whatsminer M30S+', 'MicroBT', 'sha256', 100 * T, 3400, 3, 2),
  row('m30s++', 'Whatsminer M30S++', 'MicroBT', 'sha256', 112 * T, 3472, 3, 2),
  row('m31s', 'Whatsminer M31S', 'MicroBT', 'sha256', 70 * T, 3220, 3, 2),
  row('m31s+', 'Whatsminer M31S+', 'MicroBT', 'sha256', 80 * T, 3360, 3, 2),
  row('m50', 'Whatsminer M50', 'MicroBT', 'sha256', 114 * T, 3306, 3, 2),
  row('m50s', 'Whatsminer M50S', 'MicroBT', 'sha256', 126 * T, 3276, 3, 2),
  row('m60', 'Whatsminer M60', 'MicroBT', 'sha256', 172 * T, 3422, 3, 2),
  row('m60s', 'Whatsminer M60S', 'MicroBT', 'sha256', 186 * T, 3441, 3, 2),
  // Canaan
  row('1047', 'AvalonMiner 1047', 'Canaan', 'sha256', 37 * T, 2380, 3, 2),
  row('1166pro', 'AvalonMiner 1166 Pro', 'Canaan', 'sha256', 81 * T, 3400, 3, 2),
  row('1246', 'AvalonMiner 1246', 'Canaan', 'sha256', 90 * T, 3420, 3, 2),
  row('1366', 'AvalonMiner 1366', 'Canaan', 'sha256', 130 * T, 3250, 3, 2),
  row('a1466', 'Avalon A1466', 'Canaan', 'sha256', 150 * T, 3230, 3, 2),
  // Innosilicon
  row('a9', 'Innosilicon A9 ZMaster', 'Innosilicon', 'equihash', 50 * K, 620, 3, 2),
];

const BY_KEY = new Map(MODELS.map((m) => [m.key, m]));

/**
 * Normalized key: lower case, no maker word, no firmware decoration, no spaces or dots.
 * "Antminer S19JPRO Hiveon" → "s19jpro"; "Antminer S21 XP Hyd." → "s21xphyd"; "AvalonMiner 1246-81" → "1246".
 */
export function normalizeModelKey(model: string): string {
  let s = model.toLowerCase();
  s = s.split('\n')[0] ?? s; // "Antminer S9\nV1.3.58" (antminer_s9_version_2.txt)
  s = s.replace(/\(.*$/, ''); // "(vnish 3.8.6)", "(88)", "(v5.1)"
  s = s.replace(/\b(antminer|whatsminer|avalonminer|avalon|innosilicon|bitmain|microbt|canaan)\b/g, '');
  s = s.replace(/\b(hiveon|aml|nopic|vnish|blissz.*|mskminer|asicseer|braiins.*|zmaster)\b/g, '');
  s = s.replace(/hydro?\b/g, 'hyd');
  s = s.replace(/[\s._]+/g, '');
  // Avalon model strings carry a bin suffix: "1246-81", "1166Pro-75".
  s = s.replace(/-\d+$/, '');
  return s;
}

/** Tolerant lookup; null when the model is unknown (never a guess from a different model). */
/**
 * Answers by model string: a fleet has a handful of distinct models, and every sample, summary and power estimate
 * asks (normalizing with six regexes each time was 1 % of a 10,000-rig collector's main thread). Bounded so hostile
 * model strings cannot grow it.
 */
const LOOKUPS = new Map<string, ModelSpec | null>();
const LOOKUPS_MAX = 4096;

export function lookupModel(model: string | null | undefined): ModelSpec | null {
  if (!model) return null;
  const known = LOOKUPS.get(model);
  if (known !== undefined) return known;
  const spec = findModel(model);
  if (LOOKUPS.size >= LOOKUPS_MAX) LOOKUPS.clear();
  LOOKUPS.set(model, spec);
  return spec;
}

function findModel(model: string): ModelSpec | null {
  const key = normalizeModelKey(model);
  if (key === '') return null;
  const exact = BY_KEY.get(key);
  if (exact) return exact;
  // Whatsminer variants "M30S+VE40", "M50VH20": the base model plus a chip/bin suffix.
  let best: ModelSpec | null = null;
  for (const m of MODELS) {
    if (!key.startsWith(m.key)) continue;
    const rest = key.slice(m.key.length);
    if (!/^(v[a-z]?\d|_)/.test(rest)) continue;
    if (!best || m.key.length > best.key.length) best = m;
  }
  return best;
}

/**
 * Power estimate from the model's nameplate efficiency and the measured hashrate (docs/protocols.md, "## Units and plausibility"). Null when
 * the model is unknown, the rig is not hashing, or there is no hashrate: an estimate of nothing is not 0 W.
 * Ignores fan power, ambient and tuning; callers must label it `power_source: 'estimate'`.
 */
export function estimatePowerW(reading: MinerReading): number | null {
  const spec = lookupModel(reading.identity.model);
  if (!spec) return null;
  if (reading.state === 'offline' || reading.state === 'sleeping') return null;
  const hs = reading.hashrate_hs ?? reading.hashrate_avg_hs;
  if (hs === null || !(hs > 0)) return null;
  // Clamp the ratio: a 5 s spike or a half-dead unit should not produce an absurd figure.
  const ratio = Math.min(Math.max(hs / spec.hashrate_hs, 0.2), 1.3);
  return Math.round(spec.power_w * ratio);
}
