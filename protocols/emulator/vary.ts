/**
 * Moving figures for emulated rigs. A real reply is replayed with its numbers nudged: hashrate drifts a few %,
 * temperatures wander, fans jitter, `Elapsed` and `When` follow the wall clock, share counters grow, and a
 * reboot (on demand, or at random with a set probability) restarts `Elapsed` and the counters.
 *
 * The edit works on the reply *text*, one number token at a time, found by key name. Everything else (key order,
 * spacing, `}{` defects, invalid escapes, trailing junk) is left byte for byte, so the client still meets the
 * firmware's real malformations. Each token keeps its form: quoted stays quoted (`"GHS 5s":"13883.81"`, S9
 * fixtures), the number of decimals stays (`"Wait":0.000000`), integers stay integers.
 *
 * Rules that keep the data honest:
 * - zero and negative readings are left alone: 0 means "empty slot / sensor absent / sleeping" in these
 *   firmwares (docs/protocols.md "Units and plausibility") and -83 °C in antminer_s9_stats.txt is a real broken sensor;
 * - the 4-sensor strings (`"temp_pcb1": "2--1-20-22"`, antminer_s19pro_stats.txt) are not touched;
 * - nominal figures (`total_rateideal`, `Factory GHS`, `chain_rateidealN`) do not move.
 *
 * Deterministic: the output depends only on the seed, the number of replies served so far and the clock
 * (`now`, injectable), so a test that passes a seed and a fake clock gets the same bytes every run.
 */
import { mix32 } from '../../lib/hash.js';

/** The seeded noise below is built on murmur3's finaliser (lib/hash.ts). */
const fmix = mix32;

function hash3(a: number, b: number, c: number): number {
  return fmix(fmix(fmix(a ^ 0x9e3779b9) ^ b) ^ c);
}

/** Seeded uniform [0, 1) stream. */
export function seededRandom(seed: number): () => number {
  let counter = 0;
  const s = seed >>> 0;
  return () => hash3(s, 0x51ed270b, counter++) / 4294967296;
}

/**
 * The next draw of a seeded stream in [-1, 1). A plain function, not a closure made per reply or per number:
 * the emulator serves thousands of replies a second in the benchmarks, and each closure cost its creation.
 */
function jitter(rng: () => number): number {
  return rng() * 2 - 1;
}

/** Smooth noise in [-1, 1] over time: hashed lattice points every `period` seconds, cosine-interpolated. */
function noise(seed: number, channel: number, tS: number, periodS: number): number {
  const x = tS / periodS;
  const i = Math.floor(x);
  const f = x - i;
  const a = (hash3(seed, channel, i) / 4294967296) * 2 - 1;
  const b = (hash3(seed, channel, i + 1) / 4294967296) * 2 - 1;
  const w = (1 - Math.cos(f * Math.PI)) / 2;
  return a * (1 - w) + b * w;
}

export interface DynamicsOptions {
  seed: number;
  /** Clock in ms since epoch; defaults to Date.now. Tests pass a fake one. */
  now?: () => number;
  /** Probability, per reply served, that the rig reboots first (0 = only on demand). */
  rebootProbability?: number;
  /** Size of the hashrate drift, as a fraction (default 0.03 = ±3 %). */
  hashDrift?: number;
  /** Size of the temperature wander, °C (default 3). */
  tempWanderC?: number;
}

/** The figures for one reply, computed once and applied to every number in it. */
export interface Snapshot {
  /** Replies served before this one. */
  poll: number;
  /** Seconds since the rig started (wall clock). */
  sinceStartS: number;
  /** Seconds since the last reboot, or null when it never rebooted. */
  sinceRebootS: number | null;
  /** Slow hashrate drift factor (averages). */
  hashAvg: number;
  /** Hashrate factor for short windows (5 s, 1 m, per chain): drift plus jitter. */
  hashFast: number;
  tempDeltaC: number;
  fanFactor: number;
  powerFactor: number;
  /** Seeded stream for per-number jitter inside this reply. */
  rng: () => number;
}

/** Time and chance for one rig: drift, jitter, reboots. */
export class RigDynamics {
  readonly seed: number;
  readonly #now: () => number;
  readonly #startedMs: number;
  readonly #rebootProbability: number;
  readonly #hashDrift: number;
  readonly #tempWander: number;
  readonly #rng: () => number;
  #rebootedMs: number | null = null;
  #polls = 0;
  #reboots = 0;

  constructor(opts: DynamicsOptions) {
    this.seed = opts.seed >>> 0;
    this.#now = opts.now ?? Date.now;
    this.#startedMs = this.#now();
    this.#rebootProbability = Math.min(1, Math.max(0, opts.rebootProbability ?? 0));
    this.#hashDrift = opts.hashDrift ?? 0.03;
    this.#tempWander = opts.tempWanderC ?? 3;
    this.#rng = seededRandom(this.seed ^ 0xa5a5a5a5);
  }

  /** Restart the miner process: `Elapsed` and the share counters start again from 0. */
  reboot(): void {
    this.#rebootedMs = this.#now();
    this.#reboots++;
  }

  get reboots(): number {
    return this.#reboots;
  }

  /** Figures for the next reply (advances the poll counter; may trigger a random reboot). */
  snapshot(): Snapshot {
    if (this.#rebootProbability > 0 && this.#rng() < this.#rebootProbability) this.reboot();
    const nowMs = this.#now();
    const poll = this.#polls++;
    const t = Math.max(0, (nowMs - this.#startedMs) / 1000);
    const rng = seededRandom(hash3(this.seed, 0x7f4a7c15, poll));
    const hashAvg = 1 + this.#hashDrift * 0.4 * noise(this.seed, 1, t, 120);
    const hashFast = 1 + this.#hashDrift * noise(this.seed, 2, t, 30) + 0.01 * jitter(rng);
    return {
      poll,
      sinceStartS: t,
      sinceRebootS: this.#rebootedMs === null ? null : Math.max(0, (nowMs - this.#rebootedMs) / 1000),
      hashAvg,
      hashFast,
      tempDeltaC: this.#tempWander * noise(this.seed, 3, t, 45) + 0.5 * jitter(rng),
      fanFactor: 1 + 0.02 * noise(this.seed, 4, t, 20) + 0.01 * jitter(rng),
      powerFactor: 1 + 0.5 * (hashFast - 1) + 0.003 * jitter(rng),
      rng,
    };
  }
}

type KeyClass = 'hashFast' | 'hashAvg' | 'temp' | 'fan' | 'power' | 'elapsed' | 'uptime' | 'when' | 'counter';

const EXACT: Record<string, KeyClass> = {
  // Short-window hashrates (cgminer `MHS %ds` names vary with --log: 5s, 20s, 30s; docs/protocols.md "cgminer API framing").
  'GHS 5s': 'hashFast',
  'GHS 1m': 'hashFast',
  'MHS 5s': 'hashFast',
  'MHS 20s': 'hashFast',
  'MHS 30s': 'hashFast',
  'MHS 1m': 'hashFast',
  'HS RT': 'hashFast',
  hashRate: 'hashFast',
  'hash-realtime': 'hashFast',
  'hash-1min': 'hashFast',
  GHSspd: 'hashFast',
  'GHS av': 'hashAvg',
  'GHS 5m': 'hashAvg',
  'GHS 15m': 'hashAvg',
  'GHS 30m': 'hashAvg',
  'GHS 24h': 'hashAvg',
  'MHS av': 'hashAvg',
  'MHS 5m': 'hashAvg',
  'MHS 15m': 'hashAvg',
  'MHS 24h': 'hashAvg',
  rate_30m: 'hashAvg',
  'total rate': 'hashAvg',
  total_rate: 'hashAvg',
  'hash-average': 'hashAvg',
  'hash-15min': 'hashAvg',
  GHSavg: 'hashAvg',
  GHSmm: 'hashAvg',
  Temperature: 'temp',
  'Chip Temp Min': 'temp',
  'Chip Temp Max': 'temp',
  'Chip Temp Avg': 'temp',
  'Env Temp': 'temp',
  'Temp max': 'temp',
  temp_max: 'temp',
  Board: 'temp',
  Chip: 'temp',
  temp: 'temp',
  vrTemp: 'temp',
  TopLeft: 'temp',
  TopRight: 'temp',
  BottomLeft: 'temp',
  BottomRight: 'temp',
  'chip-temp-min': 'temp',
  'chip-temp-max': 'temp',
  'chip-temp-avg': 'temp',
  'environment-temperature': 'temp',
  Temp: 'temp',
  TMax: 'temp',
  TAvg: 'temp',
  'Fan Speed In': 'fan',
  'Fan Speed Out': 'fan',
  'Power Fanspeed': 'fan',
  RPM: 'fan',
  fanrpm: 'fan',
  'fan-speed-in': 'fan',
  'fan-speed-out': 'fan',
  Power: 'power',
  Power_RT: 'power',
  power: 'power',
  'power-realtime': 'power',
  'power-5min': 'power',
  WALLPOWER: 'power',
  Elapsed: 'elapsed',
  'Device Elapsed': 'elapsed',
  elapsed: 'elapsed',
  uptimeSeconds: 'elapsed',
  Uptime: 'uptime',
  'bootup-time': 'uptime',
  When: 'when',
  when: 'when',
  // Unix times on the miner's clock (cgminer TIME type, docs/protocols.md "cgminer API framing"); 0 = never, and stays 0.
  'Last Share Time': 'when',
  'Last getwork': 'when',
  'Last Valid Work': 'when',
  Accepted: 'counter',
  Rejected: 'counter',
  Stale: 'counter',
  Discarded: 'counter',
  Getworks: 'counter',
  Works: 'counter',
  'Hardware Errors': 'counter',
  'Difficulty Accepted': 'counter',
  'Difficulty Rejected': 'counter',
  'Difficulty Stale': 'counter',
  'Total MH': 'counter',
  'Local Work': 'counter',
  'Diff1 Work': 'counter',
  'Diff1 Shares': 'counter',
  no_matching_work: 'counter',
  sharesAccepted: 'counter',
  sharesRejected: 'counter',
};

function classify(key: string): KeyClass | null {
  const exact = EXACT[key];
  if (exact) return exact;
  // Antminer legacy stats slots (docs/protocols.md "Antminer"): chain_rateN GH/s, tempN board, temp2_N chip, fanN rpm.
  if (/^chain_rate\d+$/.test(key)) return 'hashFast';
  if (/^temp\d+$/.test(key) || /^temp[23]_\d+$/.test(key)) return 'temp';
  if (/^(fan|Fan)\d+$/.test(key)) return 'fan';
  if (/^chain_hw\d+$/.test(key)) return 'counter';
  return null;
}

const NUM = String.raw`-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?`;
/** `"key": 12.5` or `"key":"12.5"`; keys never contain quotes or backslashes in these firmwares. */
const JSON_PAIR = new RegExp(String.raw`"([^"\\\n]{1,48})"(\s*:\s*)(?:"(${NUM})"|(${NUM}))`, 'g');
/** Avalon `MM ID0` tokens: `Elapsed[157]`, `Temp[18]`, `Fan1[2896]`, `GHSspd[...]` (avalon_1047_summary-stats-pools.txt). */
const BRACKET = new RegExp(
  String.raw`\b(Elapsed|GHSspd|GHSmm|GHSavg|Temp|TMax|TAvg|Fan[1-4]|WALLPOWER)\[(${NUM})\]`,
  'g',
);
/** Text (pipe) format: `When=1742265580,` (avalon_mini3_version.txt). */
const TEXT_PAIR = new RegExp(`([,|]|^)(When|Elapsed)=(${NUM})(?=[,|])`, 'g');

/** A MAC address, its vendor half (OUI) captured. */
const MAC =
  /\b([0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}):[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\b/g;

/** Facts about the rig that the edit needs beyond the snapshot. */
export interface VaryBase {
  /** `Elapsed` of the rig when its fixtures were captured (s); every `Elapsed` key reports from this one. */
  elapsedS: number;
  /** The rig's seed: every MAC in the text gets the rig's own device half, as `uniqueMacs` gives it. */
  macSeed?: number;
}

function decimalsOf(token: string): number {
  const dot = token.indexOf('.');
  return dot === -1 ? 0 : token.length - dot - 1;
}

function format(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return '0';
  return decimals === 0 ? String(Math.round(value)) : value.toFixed(Math.min(decimals, 20));
}

/** New value for one number, or null to leave the token as it is. */
function newValue(cls: KeyClass, value: number, snap: Snapshot, base: VaryBase): number | null {
  if (cls === 'when') return value > 0 ? value + Math.floor(snap.sinceStartS) : null;
  if (value <= 0 && cls !== 'elapsed' && cls !== 'uptime') return null;
  if (value < 0) return null;
  const elapsedBase = base.elapsedS > 0 ? base.elapsedS : 3600;
  switch (cls) {
    case 'hashFast':
      return value * snap.hashFast * (1 + 0.004 * jitter(snap.rng));
    case 'hashAvg':
      return value * snap.hashAvg;
    case 'temp':
      return Math.max(1, value + snap.tempDeltaC + 0.3 * jitter(snap.rng));
    case 'fan':
      return value * snap.fanFactor * (1 + 0.005 * jitter(snap.rng));
    case 'power':
      return value * snap.powerFactor;
    case 'elapsed':
      return snap.sinceRebootS === null ? elapsedBase + snap.sinceStartS : snap.sinceRebootS;
    case 'uptime':
      // System uptime (Whatsminer `Uptime`) runs a little ahead of the miner process.
      return snap.sinceRebootS === null ? value + snap.sinceStartS : snap.sinceRebootS + 30;
    case 'counter': {
      const rate = value / elapsedBase;
      return snap.sinceRebootS === null ? value + rate * snap.sinceStartS : rate * snap.sinceRebootS;
    }
  }
}

/** A number token the edit may move: the text around it is kept as it is. */
interface Slot {
  cls: KeyClass;
  /** Text before the number (`"GHS 5s":"`, `Temp[`, `,When=`). */
  head: string;
  token: string;
  /** Text after the number (`"` for quoted values, `]` for bracket tokens, else empty). */
  tail: string;
}
/** A MAC address in the text: its vendor half (OUI) is kept, the device half is the rig's (`uniqueMacs`). */
interface MacSlot {
  cls: 'mac';
  /** The MAC as the capture has it, for a reply rendered without a rig seed. */
  whole: string;
  oui: string;
  lower: boolean;
}
type Piece = string | Slot | MacSlot;

/** Split literal pieces further with one more pattern (`make` turns a match into a slot, or null). */
function splitPieces(
  pieces: Piece[],
  re: RegExp,
  make: (m: RegExpExecArray) => Slot | MacSlot | null,
): Piece[] {
  const out: Piece[] = [];
  for (const piece of pieces) {
    if (typeof piece !== 'string') {
      out.push(piece);
      continue;
    }
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(piece); m; m = re.exec(piece)) {
      const slot = make(m);
      if (!slot) continue;
      if (m.index > last) out.push(piece.slice(last, m.index));
      out.push(slot);
      last = m.index + m[0].length;
    }
    if (last < piece.length) out.push(piece.slice(last));
  }
  return out;
}

/** Where the moving numbers sit in a reply text; computed once per distinct text. */
function compile(text: string): Piece[] {
  let pieces: Piece[] = [text];
  pieces = splitPieces(pieces, JSON_PAIR, (m) => {
    const [, key = '', sep = '', quoted, bare] = m;
    const cls = classify(key);
    const token = quoted ?? bare;
    if (!cls || token === undefined || /[eE]/.test(token)) return null;
    return quoted !== undefined
      ? { cls, head: `"${key}"${sep}"`, token, tail: '"' }
      : { cls, head: `"${key}"${sep}`, token, tail: '' };
  });
  pieces = splitPieces(pieces, BRACKET, (m) => {
    const [, key = '', token = ''] = m;
    const cls = classify(key);
    return cls ? { cls, head: `${key}[`, token, tail: ']' } : null;
  });
  pieces = splitPieces(pieces, TEXT_PAIR, (m) => {
    const [, lead = '', key = '', token = ''] = m;
    const cls = classify(key);
    return cls ? { cls, head: `${lead}${key}=`, token, tail: '' } : null;
  });
  // MACs last: they sit in string values, never inside a number token the splits above took out.
  pieces = splitPieces(pieces, MAC, (m) => {
    const [whole, oui = ''] = m;
    return { cls: 'mac', whole, oui, lower: whole === whole.toLowerCase() };
  });
  return pieces;
}

/** Compiled replies, by text. Bounded: error replies echo the command name, so texts are not a closed set. */
const compiled = new Map<string, Piece[]>();
const COMPILED_MAX = 2000;

/** Apply one snapshot to a reply text. Only number tokens under known keys change. */
export function varyText(text: string, snap: Snapshot, base: VaryBase): string {
  let pieces = compiled.get(text);
  if (!pieces) {
    pieces = compile(text);
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(text, pieces);
  }
  let out = '';
  let tail: string | null = null;
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    if (piece.cls === 'mac') {
      if (base.macSeed === undefined) out += piece.whole;
      else {
        tail ??= macTail(base.macSeed);
        const mac = `${piece.oui}:${tail}`;
        out += piece.lower ? mac.toLowerCase() : mac.toUpperCase();
      }
      continue;
    }
    const v = newValue(piece.cls, Number(piece.token), snap, base);
    out += piece.head + (v === null ? piece.token : format(v, decimalsOf(piece.token))) + piece.tail;
  }
  return out;
}

/** First `Elapsed` value in a reply text (JSON or pipe format), for `VaryBase.elapsedS`. */
export function findElapsed(text: string): number | null {
  const m = /"Elapsed"\s*:\s*"?(\d+)/.exec(text) ?? /[,|]Elapsed=(\d+)/.exec(text);
  return m?.[1] ? Number(m[1]) : null;
}

/**
 * Give each emulated rig its own MAC: rigs replaying the same capture would otherwise share one, and since a
 * rig's id is its MAC (docs/ARCHITECTURE.md "Identity") their histories would merge. The vendor prefix (OUI) is kept; the
 * device half comes from the rig's seed, in the capture's letter case.
 */
export function uniqueMacs(text: string, seed: number): string {
  return text.replace(MAC, (whole, oui: string) => {
    const mac = `${oui}:${macTail(seed)}`;
    return whole === whole.toLowerCase() ? mac.toLowerCase() : mac.toUpperCase();
  });
}

/** The device half of a rig's MAC, from its seed. */
function macTail(seed: number): string {
  return [16, 8, 0].map((shift) => ((seed >>> shift) & 0xff).toString(16).padStart(2, '0')).join(':');
}
