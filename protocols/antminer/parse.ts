/**
 * Antminer (bmminer / Bitmain cgminer fork and the firmwares built on it: Hiveon, VNish 3.x/2.x on 4028,
 * mskminer, asicseer, Blissz) → MinerReading. Pure: takes the decoded reply bodies of `version`, `stats`,
 * `summary`, `pools` (any may be missing) and returns what they say, normalized.
 *
 * Stock Antminer has no useful `summary` capture here: hashrate, boards, temperatures and fans come from legacy
 * `stats` (docs/protocols.md, "## Antminer"), identity from `version`, pools from `pools`.
 */
import {
  type Algorithm,
  applyPoolTotals,
  deadChips,
  firstRow,
  isObj,
  leadingNum,
  lookupModel,
  maxOrNull,
  num,
  type Obj,
  parsePools,
  positive,
  rows,
  scale,
  str,
  sumOrNull,
} from '../kit/index.js';
import {
  type BoardReading,
  emptyBoard,
  emptyReading,
  type FanReading,
  type MinerReading,
} from '../sample.js';

export interface AntminerParts {
  version?: unknown;
  stats?: unknown;
  summary?: unknown;
  pools?: unknown;
}

/** Plausible °C range for any sensor; outside it the value is a sensor fault (antminer_s9_stats.txt: -83). */
const TEMP_MIN_C = -40;
const TEMP_MAX_C = 130;
const MAX_SLOTS = 16;

export type AntminerFlavour = 'stock' | 'hiveon' | 'vnish' | 'mskminer' | 'asicseer' | 'blissz';

/**
 * Which firmware built this reply, from `Type` and the BMMiner/CGMiner version string:
 * "Antminer S9 Hiveon" / "2.0.0 rwglr" (antminer_s9hiveon_version.txt), "Antminer S9 (vnish 3.8.6)"
 * (vnish_s9_version.txt), "2.4.0-asicseer-1.1.9-f7b7" (antminer_s9asicseer_version.txt), "rwglr" without Hiveon
 * (antminer_s9promskminer_version.txt; pyasic maps RWGLR to MSKminer), "Antminer D3 Blissz v2.06 beta".
 */
export function antminerFlavour(type: string | null, minerVersion: string | null): AntminerFlavour {
  const t = (type ?? '').toLowerCase();
  const v = (minerVersion ?? '').toLowerCase();
  if (t.includes('vnish')) return 'vnish';
  if (t.includes('hiveon')) return 'hiveon';
  if (v.includes('asicseer')) return 'asicseer';
  if (t.includes('blissz')) return 'blissz';
  if (v.includes('rwglr')) return 'mskminer';
  return 'stock';
}

/** Model as the miner names it, without firmware decoration. */
export function cleanAntminerModel(type: string | null): string | null {
  if (type === null) return null;
  let s = type.split('\n')[0] ?? ''; // "Antminer S9\nV1.3.58" (antminer_s9_version_2.txt)
  s = s.replace(/\s*\(.*$/, ''); // "(vnish 3.8.6)", "(v5.1) " (antminer_s9promskminer_version.txt), "(88)"
  s = s.replace(/\s+(hiveon|aml|nopic)\b.*$/i, ''); // "Antminer S19JPRO Hiveon"
  s = s.replace(/\s+blissz\b.*$/i, ''); // "Antminer D3 Blissz v2.06 beta"
  s = s.trim();
  return s === '' ? null : s;
}

const FLAVOUR_LABEL: Record<AntminerFlavour, string> = {
  stock: '',
  hiveon: 'Hiveon',
  vnish: 'VNish',
  mskminer: 'mskminer',
  asicseer: 'asicseer',
  blissz: 'Blissz',
};

function firmwareString(header: Obj | null, flavour: AntminerFlavour, type: string | null): string | null {
  if (!header) return null;
  const keyName = ['BMMiner', 'CGMiner', 'Cgminer'].find((k) => str(header[k]) !== null);
  const base = keyName ? `${keyName} ${str(header[keyName])}` : null;
  let label = FLAVOUR_LABEL[flavour];
  if (flavour === 'vnish') {
    const m = /vnish\s+([\w.]+)/i.exec(type ?? '');
    if (m) label = `VNish ${m[1]}`;
  } else if (flavour === 'blissz') {
    const m = /blissz\s+(.*)$/i.exec(type ?? '');
    if (m) label = `Blissz ${m[1]!.trim()}`;
  }
  const extras: string[] = [];
  const miner = str(header['Miner']);
  if (miner) extras.push(`Miner ${miner}`);
  const compiled = str(header['CompileTime']);
  if (compiled) extras.push(`compiled ${compiled.replace(/\s+/g, ' ')}`);
  const head = [label, base].filter((x) => x).join(' ');
  if (!head && extras.length === 0) return null;
  return extras.length ? `${head} (${extras.join(', ')})`.trim() : head;
}

/**
 * Multiplier from the stats "GHS" figures to H/s of the model's algorithm. Bitmain labels every rate "GHS", but
 * on non-SHA-256 models the number is in the unit the model is sold in: L3+ 504 "GHS" = 504 MH/s scrypt
 * (antminer_l3plus_stats.txt), D3 16346 = 16.3 GH/s X11 as MH/s (antminer_d3blissz_stats.txt), E3 197 = 197
 * MH/s ethash (antminer_e3_stats.txt), Z11 141.5 = 141.5 kSol/s (antminer_z11_stats.txt).
 */
function rateFactor(algorithm: Algorithm | null, rateUnit: string | null): number {
  switch (algorithm) {
    case 'scrypt':
    case 'x11':
    case 'ethash':
      return 1e6;
    case 'equihash':
      return 1e3;
    case 'tensority':
      return 1;
    default:
      break;
  }
  const u = (rateUnit ?? 'GH').trim().toUpperCase().replace(/\/S$/, '').replace(/S$/, '');
  switch (u) {
    case 'H':
      return 1;
    case 'KH':
      return 1e3;
    case 'MH':
      return 1e6;
    case 'TH':
      return 1e12;
    case 'PH':
      return 1e15;
    default:
      return 1e9;
  }
}

const ALGO_UNIT: Record<Algorithm, string> = {
  sha256: 'H/s',
  scrypt: 'H/s of scrypt',
  x11: 'H/s of X11',
  ethash: 'H/s of ethash',
  equihash: 'Sol/s of Equihash',
  tensority: 'H/s of Tensority',
};

/**
 * "a-b-c-d" sensor strings where a value may itself be negative: "2--1-20-22" is 2, -1, 20, 22
 * (antminer_s19pro_stats.txt). "0-0-0-0", "-" and "" mean no sensor (antminer_t15_stats.txt).
 */
export function parseSensorString(v: unknown): number[] {
  if (typeof v !== 'string') return [];
  const s = v.trim();
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    const m = /^-?\d+(?:\.\d+)?/.exec(s.slice(i));
    if (!m) break;
    out.push(Number(m[0]));
    i += m[0].length;
    if (s[i] !== '-') break; // the separator
    i++;
  }
  return out.every((x) => x === 0) ? [] : out;
}

interface TempCollector {
  notes: string[];
}

/** A temperature value, or null for 0 (empty slot sentinel) and for values outside the plausible range. */
function temp(v: number | null, key: string, tc: TempCollector): number | null {
  if (v === null || v === 0) return null;
  if (v < TEMP_MIN_C || v > TEMP_MAX_C) {
    tc.notes.push(`implausible temperature ${v} °C in ${key} ignored`);
    return null;
  }
  return v;
}

function sensorsMax(v: unknown, key: string, tc: TempCollector): number | null {
  const values = parseSensorString(v);
  return maxOrNull(
    values.map((x) => {
      if (x < TEMP_MIN_C || x > TEMP_MAX_C) {
        tc.notes.push(`implausible temperature ${x} °C in ${key} ignored`);
        return null;
      }
      return x;
    }),
  );
}

/** The stats object with the driver figures (STATS[1] on bmminer; the one with chain/rate keys in general). */
function driverStats(stats: unknown): { header: Obj | null; driver: Obj | null } {
  const list = rows(stats, 'STATS');
  const driver =
    list.find(
      (o) => 'GHS 5s' in o || 'GHS av' in o || 'chain_acn1' in o || 'miner_count' in o || 'Elapsed' in o,
    ) ?? null;
  const header = list.find((o) => 'Type' in o || 'BMMiner' in o || 'CGMiner' in o || 'Cgminer' in o) ?? null;
  return { header, driver };
}

/** Chips answering on chain slot n: `chain_acnN` (chips found) less those marked `x` in `chain_acsN`. */
function chipsAlive(d: Obj, n: number): number | null {
  const found = num(d[`chain_acn${n}`]);
  if (found === null) return null;
  return Math.max(0, found - deadChips(d[`chain_acs${n}`]));
}

function slotPresent(d: Obj, n: number): boolean {
  const acn = num(d[`chain_acn${n}`]);
  const acs = d[`chain_acs${n}`];
  return (acn !== null && acn > 0) || (typeof acs === 'string' && acs.trim() !== '');
}

/**
 * Chain slots → 0-based physical boards. S19/S17/T15 use slots 1–3 (index = slot − 1, so a missing board 1 keeps
 * boards 2–3 at indices 1–2: antminer_s19_stats.txt); S9 uses 6–8 (index = slot − 6); E3 and T9 split each board
 * over a primary slot and two high slots (E3 1/8/9, 2/10/11, 3/12/13: antminer_e3_stats.txt; T9 2/9/10…).
 */
function boardGroups(d: Obj): Array<{ index: number; slots: number[] }> {
  const present: number[] = [];
  for (let n = 1; n <= MAX_SLOTS; n++) if (slotPresent(d, n)) present.push(n);
  if (present.length === 0) return [];
  const primaries = present.filter((n) => n <= 5);
  const secondaries = present.filter((n) => n >= 8);
  if (
    primaries.length > 0 &&
    secondaries.length === 2 * primaries.length &&
    present.length === 3 * primaries.length
  ) {
    return primaries.map((p, i) => ({ index: i, slots: [p, secondaries[2 * i]!, secondaries[2 * i + 1]!] }));
  }
  const first = present[0]!;
  const base = first <= 5 ? 1 : first <= 10 ? 6 : 11;
  return present.map((n) => ({ index: n - base, slots: [n] }));
}

function parseBoards(d: Obj, factor: number, tc: TempCollector): BoardReading[] {
  const globalFreq = leadingNum(d['frequency']);
  return boardGroups(d).map(({ index, slots }) => {
    const b = emptyBoard(index);
    b.hashrate_hs = sumOrNull(slots.map((n) => scale(num(d[`chain_rate${n}`]), factor)));
    b.hashrate_nominal_hs = sumOrNull(slots.map((n) => scale(positive(d[`chain_rateideal${n}`]), factor)));
    b.temp_board_c = maxOrNull(
      slots.flatMap((n) => [
        temp(num(d[`temp${n}`]), `temp${n}`, tc),
        sensorsMax(d[`temp_pcb${n}`], `temp_pcb${n}`, tc),
      ]),
    );
    b.temp_chip_c = maxOrNull(
      slots.flatMap((n) => [
        temp(num(d[`temp2_${n}`]), `temp2_${n}`, tc),
        sensorsMax(d[`temp_chip${n}`], `temp_chip${n}`, tc),
      ]),
    );
    b.chips = sumOrNull(slots.map((n) => chipsAlive(d, n)));
    b.hw_errors = sumOrNull(slots.map((n) => num(d[`chain_hw${n}`])));
    const freqs = slots.map(
      (n) => positive(d[`freq_avg${n}`]) ?? positive(d[`freq${n}`]) ?? positive(d[`frequency${n}`]),
    );
    const known = freqs.filter((f): f is number => f !== null);
    const mean = known.length
      ? Math.round((known.reduce((a, x) => a + x, 0) / known.length) * 100) / 100
      : null;
    b.frequency_mhz =
      mean !== null && Number.isFinite(mean)
        ? mean
        : globalFreq !== null && globalFreq > 0
          ? globalFreq
          : null;
    // Hiveon chain_powerN (antminer_s9hiveon_stats.txt), VNish chain_consumptionN (vnish_s9_stats.txt).
    b.power_w = sumOrNull(
      slots.map((n) => positive(d[`chain_power${n}`]) ?? positive(d[`chain_consumption${n}`])),
    );
    return b;
  });
}

/** Fans: fixed slots fan1..fanN where 0 means "no fan in this slot" (or stopped: the two look the same). */
function parseFans(d: Obj): FanReading[] {
  const fans: FanReading[] = [];
  for (let n = 1; n <= MAX_SLOTS; n++) {
    const rpm = num(d[`fan${n}`]);
    // Listed only when spinning, at index slot − 1 so a fan keeps its index from poll to poll; a stopped fan
    // disappears rather than reading 0 rpm (compare with the model's fan count to flag it).
    if (rpm !== null && rpm > 0) fans.push({ index: n - 1, rpm });
  }
  return fans;
}

export function parseAntminer(parts: AntminerParts): MinerReading {
  const r = emptyReading('antminer');
  const tc: TempCollector = { notes: [] };
  const version = firstRow(parts.version, 'VERSION');
  const { header, driver } = driverStats(parts.stats);
  const summary = firstRow(parts.summary, 'SUMMARY');

  const type = str(version?.['Type']) ?? str(header?.['Type']);
  const idSource =
    version && (version['BMMiner'] || version['CGMiner'] || version['Cgminer']) ? version : header;
  const minerVersion = str(idSource?.['BMMiner']) ?? str(idSource?.['CGMiner']) ?? str(idSource?.['Cgminer']);
  const flavour = antminerFlavour(type, minerVersion);
  r.identity.make = 'Bitmain';
  r.identity.model = cleanAntminerModel(type);
  r.identity.firmware = firmwareString(idSource ?? header, flavour, type);
  r.identity.hostname = str(driver?.['hostname']);

  const spec = lookupModel(r.identity.model);
  const algorithm = spec?.algorithm ?? null;
  const factor = rateFactor(algorithm, str(driver?.['rate_unit']));
  if (algorithm && algorithm !== 'sha256') {
    r.notes.push(`${algorithm} model, not SHA-256: hashrates are ${ALGO_UNIT[algorithm]}`);
  }
  if (!version) r.notes.push('no version reply: identity taken from the stats header');

  if (driver) {
    r.hashrate_hs = scale(num(driver['GHS 5s']), factor);
    r.hashrate_avg_hs = scale(num(driver['GHS av']), factor);
    r.hashrate_nominal_hs = scale(positive(driver['total_rateideal']), factor);
    r.uptime_s = num(driver['Elapsed']);
    r.boards = parseBoards(driver, factor, tc);
    r.fans = parseFans(driver);
    if (r.hashrate_nominal_hs === null)
      r.hashrate_nominal_hs = sumOrNull(r.boards.map((b) => b.hashrate_nominal_hs));

    // Z11 "Chipless" firmware reports GHS 5s/av a thousand times the chain sum (antminer_z11_stats_2.txt):
    // trust the chains, which agree with the model's nameplate.
    const chainSum = sumOrNull(r.boards.map((b) => b.hashrate_hs));
    if (r.hashrate_hs !== null && chainSum !== null && chainSum > 0) {
      const ratio = r.hashrate_hs / chainSum;
      if (ratio > 800 && ratio < 1250) {
        r.notes.push('GHS 5s/av are 1000x the sum of chain rates; scaled down to match the chains');
        r.hashrate_hs = Math.round(r.hashrate_hs / 1000);
        if (r.hashrate_avg_hs !== null) r.hashrate_avg_hs = Math.round(r.hashrate_avg_hs / 1000);
      }
    }

    // chain_power "456.78 (AB)" (antminer_s9hiveon_stats.txt) and chain_powerN are computed by the firmware
    // from its own model of the boards — an S9 has no power sensor — so they are an estimate, not a
    // measurement (docs/protocols.md, "## Antminer"); the finish step's plausibility check judges the figure.
    const total = leadingNum(driver['chain_power']);
    const boardSum = sumOrNull(r.boards.map((b) => b.power_w));
    const power = total !== null && total > 0 ? total : boardSum;
    if (power !== null && power > 0) {
      r.power_w = power;
      r.power_source = 'estimate';
      r.notes.push(
        `power_w ${power} W is the firmware's own computation (${total !== null && total > 0 ? `chain_power "${str(driver['chain_power']) ?? total}"` : 'sum of chain_powerN'}), not a measurement`,
      );
    }
    r.hw_errors = num(driver['Hardware Errors']) ?? sumOrNull(r.boards.map((b) => b.hw_errors));
    if (num(driver['Difficulty Accepted']) !== null)
      r.difficulty_accepted = num(driver['Difficulty Accepted']);
  } else {
    r.support = 'partial';
    r.notes.push('no stats reply: no boards, temperatures or fans');
  }

  if (summary) {
    r.hashrate_hs ??= scale(num(summary['GHS 5s']), factor);
    r.hashrate_avg_hs ??= scale(num(summary['GHS av']), factor);
    r.uptime_s ??= num(summary['Elapsed']);
    r.shares_accepted = num(summary['Accepted']);
    r.shares_rejected = num(summary['Rejected']);
    r.shares_stale = num(summary['Stale']);
    r.hw_errors = num(summary['Hardware Errors']) ?? r.hw_errors;
    r.difficulty_accepted = num(summary['Difficulty Accepted']) ?? r.difficulty_accepted;
  }

  if (parts.pools !== undefined) {
    r.pools = parsePools(parts.pools);
    if (!summary) applyPoolTotals(r, parts.pools);
  }

  r.temp_board_max_c = maxOrNull(r.boards.map((b) => b.temp_board_c));
  r.temp_chip_max_c = maxOrNull(r.boards.map((b) => b.temp_chip_c));
  if (r.identity.model && /hyd/i.test(r.identity.model)) {
    // docs/protocols.md, "## Antminer" says hydro temp_chip is [inlet water, outlet water, 0, 0]; the real S21 XP Hyd. capture
    // has four populated values with "inlet" above "outlet" (antminer_s21xphyd_stats.txt: "63-59-56-61"), so they
    // are read as chip sensors and the water temperatures stay unknown.
    r.notes.push('hydro model: legacy stats carry no identifiable water inlet/outlet temperature');
  }

  r.state = stateOf(driver, r);
  for (const n of tc.notes) if (!r.notes.includes(n)) r.notes.push(n);
  return r;
}

const OVERHEAT_CHIP_C = 90;

/**
 * The state and the evidence it rests on. Only `Mode` 254 is the firmware saying it sleeps (antminer_s17plus_
 * stats.txt, antminer_t17plus_stats.txt); zero hashrate without it is an `error` marked `state_inferred`, its
 * signals in the notes, because a rig put to sleep some other way and a dead one send the same figures
 * (antminer_s19_stats.txt: Mode 2, 0 H/s since boot, every chip `x`, chips at 41 °C).
 */
function stateOf(driver: Obj | null, r: MinerReading): MinerReading['state'] {
  r.state_inferred = false;
  if (!driver) {
    if (r.hashrate_hs !== null && r.hashrate_hs > 0) return 'mining';
    r.state_inferred = true;
    return 'error';
  }
  const mode = num(driver['Mode']);
  if (mode === 254) {
    r.notes.push('Mode 254: the firmware reports sleep mode');
    return 'sleeping';
  }
  const hs = r.hashrate_hs ?? sumOrNull(r.boards.map((b) => b.hashrate_hs));
  if (hs !== null && hs > 0) return 'mining';
  r.state_inferred = true;
  const signals = [`${hs === null ? 'no hashrate figure' : '0 H/s now'}`];
  signals.push(mode === null ? 'no Mode field' : `Mode ${mode}, not the sleep mode 254`);
  const chips = sumOrNull(r.boards.map((b) => b.chips));
  const slots = boardGroups(driver).flatMap((g) => g.slots);
  const found = sumOrNull(slots.map((n) => num(driver[`chain_acn${n}`])));
  if (found !== null && found > 0)
    signals.push(`${found - (chips ?? 0)} of ${found} chips marked x in chain_acs`);
  if (r.temp_chip_max_c !== null) signals.push(`chips at most ${r.temp_chip_max_c} °C`);
  if (r.temp_chip_max_c !== null && r.temp_chip_max_c >= OVERHEAT_CHIP_C) {
    // antminer_s19pro_stats_2.txt / _3.txt ("overheating"): GHS 5s 0.0, chips 93–97 °C, all chips "x".
    r.notes.push(
      `not hashing with chips at ${r.temp_chip_max_c} °C: overheat protection (${signals.join('; ')})`,
    );
    return 'error';
  }
  if (r.hashrate_avg_hs !== null && r.hashrate_avg_hs > 0) {
    r.notes.push(`hashrate fell to 0 after hashing earlier in this run (${signals.join('; ')})`);
    return 'error';
  }
  r.notes.push(
    `not hashing since boot and no sleep signal (${signals.join('; ')}): asleep or dead cannot be told apart from these replies`,
  );
  return 'error';
}

/** True when a version/stats body looks like an Antminer (Type "Antminer …" or a bmminer key). */
export function looksLikeAntminer(body: unknown): boolean {
  const v = firstRow(body, 'VERSION') ?? firstRow(body, 'STATS');
  if (!isObj(v)) return false;
  const type = str(v['Type']) ?? '';
  return /antminer/i.test(type) || str(v['BMMiner']) !== null;
}
