/**
 * Emulated rig personalities: which real reply (protocols/fixtures/real, see its INDEX.md) answers which
 * command, the family, and which commands the firmware refuses. Fixture bytes are served as they are — a reply
 * that is malformed on the real miner stays malformed here, so the client meets the real defects.
 *
 * Where no capture exists for a command the collector needs, the gap is filled by a *derived* reply built from
 * the rig's own captured values and flagged in `derived` (stock Antminer `summary`: no capture in the set), or
 * the whole personality is `synthesized` from the field names in docs/protocols.md (Whatsminer API v3: no real v3
 * capture in the set; a stock cgminer 4.11.1). Tests that need real bytes use the fixture-backed ones.
 */

import { fixturesAvailable, fixturesDir, readFixture } from '../fixtures.js';
import { decodeReply } from '../kit/decode.js';
import type { Family } from '../sample.js';
import { EmuErrors } from './errors.js';
import { findElapsed } from './vary.js';

export type EmuProtocol = 'cgminer' | 'whatsminer-v3' | 'bitaxe-http';

export interface PersonalitySpec {
  name: string;
  family: Family;
  /** Model as the replies name it. */
  model: string;
  protocol: EmuProtocol;
  /** JSON-mode command → fixture file. */
  replies?: Record<string, string>;
  /** Command → [fixture of a joined reply, key inside it]; the single reply is cut out of the join. */
  fromJoin?: Record<string, [string, string]>;
  /** Text-mode (pipe format) command → fixture file, served verbatim for bare-word requests. */
  textReplies?: Record<string, string>;
  /** Command → other command whose reply answers it (e.g. Whatsminer `devs` → `edevs`). */
  aliases?: Record<string, string>;
  /**
   * Only these commands are allowed; every other known cgminer command gets Code 45. Stock Antminer writes
   * `"api-groups":"A:stats:pools:devs:summary:version"` (docs/protocols.md "cgminer API framing").
   */
  allowOnly?: string[];
  /**
   * `+` joins refused: the whole joined string is answered as one unknown command (Code 14), as a cgminer build
   * without joins does (minera#125, cgminer 3.7.2). Stock Antminer S17/S19/S21-era firmware ("cgminer 1.0.0"):
   * pyasic rpc/bmminer.py `multicommand` says joins do not work "for S19" and falls back to single commands.
   * Older bmminer-era builds (S9 bmminer 1.0.0, S15 cgminer 4.9.0, L3++ cgminer 4.10.0) answer joins
   * (getminera/minera#236, #235).
   */
  noJoin?: boolean;
  /** Build `summary` from this rig's stats + pools (no Antminer summary capture exists). */
  deriveSummary?: boolean;
  /** Build `estats` from stats without its pool rows, as cgminer's estats does (no estats capture exists). */
  deriveEstats?: boolean;
  /**
   * Whatsminer btminer: its own commands (`get_*`, `status`) answer to `{"cmd":…}` or `{"command":…}`, while a
   * cgminer command sent with `cmd` gets Code 24 (whatsminer_m30s_pools-summary-edevs.txt).
   */
  whatsminer?: { own: Record<string, string>; cmdKeyError: string };
  /** Body for `GET /api/system/info` (Bitaxe). */
  httpInfo?: string;
  /** Replies built by the emulator, not captured: which commands, and why. */
  derived?: string[];
  synthesized?: boolean;
  notes: string;
}

/** Stock Bitmain api-groups: every other command is "Access denied" (docs/protocols.md "cgminer API framing", pyasic#243). */
const STOCK_ANTMINER_ALLOWED = ['stats', 'pools', 'devs', 'summary', 'version'];

const WM_OWN = { get_token: 'whatsminer_unknown_get-token.txt' };
const WM_CMD_ERROR = 'whatsminer_m30s_pools-summary-edevs.txt';

export const PERSONALITY_SPECS: readonly PersonalitySpec[] = [
  {
    name: 'antminer-s19pro',
    family: 'antminer',
    model: 'Antminer S19 Pro',
    protocol: 'cgminer',
    replies: {
      version: 'antminer_s19pro_version_3.txt',
      stats: 'antminer_s19pro_stats_3.txt',
      pools: 'antminer_s19pro_pools_2.txt',
    },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes:
      'Stock S19 Pro, second "overheating" capture (version/stats/pools share the capture); spaced JSON.',
  },
  {
    name: 'antminer-s19pro-hot',
    family: 'antminer',
    model: 'Antminer S19 Pro',
    protocol: 'cgminer',
    replies: {
      version: 'antminer_s19pro_version.txt',
      stats: 'antminer_s19pro_stats_2.txt',
      pools: 'antminer_s19pro_pools.txt',
    },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'Stock S19 Pro, first "overheating" capture.',
  },
  {
    name: 'antminer-s19pro-cold',
    family: 'antminer',
    model: 'Antminer S19 Pro',
    protocol: 'cgminer',
    replies: {
      version: 'antminer_s19pro_version_2.txt',
      stats: 'antminer_s19pro_stats.txt',
      pools: 'antminer_s19pro_pools.txt',
    },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes:
      '"Really cold" S19 Pro: temp strings with negatives ("2--1-20-22"). Pools from another S19 Pro capture.',
  },
  {
    name: 'antminer-s19',
    family: 'antminer',
    model: 'Antminer S19',
    protocol: 'cgminer',
    replies: {
      version: 'antminer_s19_version_2.txt',
      stats: 'antminer_s19_stats.txt',
      pools: 'antminer_s19_pools.txt',
    },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'Sleeping S19: zero hashrate, chain_acs "xx" strings.',
  },
  {
    name: 'antminer-s9',
    family: 'antminer',
    model: 'Antminer S9',
    protocol: 'cgminer',
    replies: {
      version: 'antminer_s9_version_2.txt',
      stats: 'antminer_s9_stats.txt',
      pools: 'antminer_s9_pools.txt',
    },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    deriveSummary: true,
    derived: ['summary'],
    notes:
      'Stock S9 "bad temps": stats has the }{ defect (invalid JSON), Type "Antminer S9\\nV1.3.58", temp2_7 -83.',
  },
  {
    name: 'antminer-s9hiveon',
    family: 'antminer',
    model: 'Antminer S9 Hiveon',
    protocol: 'cgminer',
    replies: { version: 'antminer_s9hiveon_version_2.txt', stats: 'antminer_s9hiveon_stats_3.txt' },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'Hiveon S9 just after start (Elapsed 136 s): chains 6-8, }{ defect, no pools capture.',
  },
  {
    name: 'antminer-s9asicseer',
    family: 'antminer',
    model: 'Antminer S9',
    protocol: 'cgminer',
    replies: {
      version: 'antminer_s9asicseer_version.txt',
      stats: 'antminer_s9asicseer_stats.txt',
      pools: 'antminer_s9asicseer_pools.txt',
    },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'asicseer S9 firmware; valid JSON, hashrates as strings.',
  },
  {
    name: 'antminer-s9k',
    family: 'antminer',
    model: 'Antminer S9k',
    protocol: 'cgminer',
    replies: { version: 'antminer_s9k_version.txt', stats: 'antminer_s9k_stats.txt' },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'version ends with trailing junk `"id":1}"}` (invalid JSON).',
  },
  {
    name: 'antminer-s17pro',
    family: 'antminer',
    model: 'Antminer S17 Pro',
    protocol: 'cgminer',
    replies: {
      version: 'antminer_s17pro_version.txt',
      stats: 'antminer_s17pro_stats.txt',
      pools: 'antminer_s17pro_pools.txt',
    },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'Stock S17 Pro.',
  },
  {
    name: 'antminer-s17plus',
    family: 'antminer',
    model: 'Antminer S17+',
    protocol: 'cgminer',
    replies: { version: 'antminer_s17plus_version_2.txt', stats: 'antminer_s17plus_stats.txt' },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'Sleeping S17+ (Mode 254, zero hashrate).',
  },
  {
    name: 'antminer-t17plus',
    family: 'antminer',
    model: 'Antminer T17+',
    protocol: 'cgminer',
    replies: { version: 'antminer_t17plus_version.txt', stats: 'antminer_t17plus_stats.txt' },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'Sleeping T17+.',
  },
  {
    name: 'antminer-s21xphyd',
    family: 'antminer',
    model: 'Antminer S21 XP Hyd.',
    protocol: 'cgminer',
    replies: { stats: 'antminer_s21xphyd_stats.txt' },
    allowOnly: STOCK_ANTMINER_ALLOWED,
    noJoin: true,
    deriveSummary: true,
    derived: ['summary'],
    notes: 'Hydro S21 XP; stats NORMALIZED BY SOURCE (sorted keys, indented); no version capture.',
  },
  {
    name: 'vnish-s9',
    family: 'vnish',
    model: 'Antminer S9 (vnish 3.8.6)',
    protocol: 'cgminer',
    replies: { version: 'vnish_s9_version.txt', stats: 'vnish_s9_stats.txt', pools: 'vnish_s9_pools.txt' },
    notes: 'VNish 3.8.6: }{ defect in stats, "Cgminer" key.',
  },
  {
    name: 'vnish-s17plus',
    family: 'vnish',
    model: 'Antminer S17+ (vnish 2.0.3)',
    protocol: 'cgminer',
    replies: {
      version: 'vnish_s17plus_version.txt',
      stats: 'vnish_s17plus_stats.txt',
      pools: 'vnish_s17plus_pools.txt',
    },
    notes: 'VNish 2.0.3: VERSION without Type; dev-fee pools.',
  },
  {
    name: 'braiins-s9',
    family: 'braiins',
    model: 'Antminer S9 (Braiins OS)',
    protocol: 'cgminer',
    replies: {
      version: 'braiins_s9_version_2.txt',
      summary: 'braiins_s9_summary.txt',
      fans: 'braiins_s9_fans.txt',
      temps: 'braiins_s9_temps.txt',
      pools: 'braiins_s9_pools.txt',
    },
    notes: 'BOSminer 0.2.0: sorted keys, full-precision floats, chain IDs 6-8.',
  },
  {
    name: 'braiins-s9plus',
    family: 'braiins',
    model: 'Antminer S9 (Braiins OS+)',
    protocol: 'cgminer',
    replies: {
      version: 'braiins_s9plus_version.txt',
      summary: 'braiins_s9plus_summary.txt',
      fans: 'braiins_s9plus_fans.txt',
      temps: 'braiins_s9plus_temps.txt',
      pools: 'braiins_s9plus_pools.txt',
      devs: 'braiins_s9plus_devs.txt',
    },
    notes: 'BOSminer+ 0.2.0; devs from a later 0.4.0 capture.',
  },
  {
    name: 'luxos-s19kpro',
    family: 'luxos',
    model: 'Antminer S19k Pro',
    protocol: 'cgminer',
    replies: {
      version: 'luxos_s19kpro_version.txt',
      stats: 'luxos_s19kpro_stats.txt',
      temps: 'luxos_s19kpro_temps.txt',
    },
    notes:
      'LuxOS; all three NORMALIZED BY SOURCE (sorted keys, 2-space indent). No summary/devs/fans capture.',
  },
  {
    name: 'whatsminer-m30s',
    family: 'whatsminer',
    model: 'Whatsminer M30S',
    protocol: 'cgminer',
    replies: {
      summary: 'whatsminer_m30s_summary.txt',
      edevs: 'whatsminer_m30s_edevs.txt',
      pools: 'whatsminer_m30s_pools.txt',
    },
    aliases: { devs: 'edevs' },
    whatsminer: { own: WM_OWN, cmdKeyError: WM_CMD_ERROR },
    notes: 'M30S cgminer 4.9.2 (Nov 2020): PSU power in summary. devs answered with the edevs capture.',
  },
  {
    name: 'whatsminer-m31s',
    family: 'whatsminer',
    model: 'Whatsminer M31S',
    protocol: 'cgminer',
    replies: {
      summary: 'whatsminer_m31s_summary.txt',
      edevs: 'whatsminer_m31s_edevs.txt',
      pools: 'whatsminer_m31s_pools.txt',
    },
    aliases: { devs: 'edevs' },
    whatsminer: { own: { ...WM_OWN, status: 'whatsminer_m31s_status.txt' }, cmdKeyError: WM_CMD_ERROR },
    notes: 'M31S btminer (Feb 2021): POOL numbering from 1; status says btmineroff (a separate capture).',
  },
  {
    name: 'whatsminer-m20s',
    family: 'whatsminer',
    model: 'Whatsminer M20S',
    protocol: 'cgminer',
    replies: {
      summary: 'whatsminer_m20s_summary_2.txt',
      devs: 'whatsminer_m20s_devs.txt',
      pools: 'whatsminer_m20s_pools.txt',
      stats: 'whatsminer_m20s_stats.txt',
    },
    aliases: { edevs: 'devs' },
    whatsminer: { own: WM_OWN, cmdKeyError: WM_CMD_ERROR },
    notes:
      "Newer M20S firmware summary with the invalid \\' escape; pools/stats from the older firmware capture.",
  },
  {
    name: 'whatsminer-m3',
    family: 'whatsminer',
    model: 'Whatsminer M3',
    protocol: 'cgminer',
    replies: {
      summary: 'whatsminer_m3_summary.txt',
      pools: 'whatsminer_m3_pools.txt',
      stats: 'whatsminer_m3_stats.txt',
    },
    whatsminer: { own: WM_OWN, cmdKeyError: WM_CMD_ERROR },
    notes: 'M3 cgminer 4.9.2; stats is a 67 KB reply (per-chip keys).',
  },
  {
    name: 'avalon-1047',
    family: 'avalon',
    model: 'AvalonMiner 1047',
    protocol: 'cgminer',
    fromJoin: {
      summary: ['avalon_1047_summary-stats-pools.txt', 'summary'],
      stats: ['avalon_1047_summary-stats-pools.txt', 'stats'],
      pools: ['avalon_1047_summary-stats-pools.txt', 'pools'],
    },
    deriveEstats: true,
    derived: ['estats'],
    notes:
      'Singles cut out of the captured joined reply; MM ID0 string; When is uptime-like. No version capture.',
  },
  {
    name: 'avalon-1166pro',
    family: 'avalon',
    model: 'AvalonMiner 1166Pro-75',
    protocol: 'cgminer',
    replies: { version: 'avalon_1166pro_version.txt' },
    notes: 'version only (captured with its trailing NUL, which is not doubled).',
  },
  {
    name: 'avalon-mini3',
    family: 'avalon',
    model: 'Avalon Mini3',
    protocol: 'cgminer',
    textReplies: { version: 'avalon_mini3_version.txt' },
    notes: 'Text-mode (pipe format) version only.',
  },
  {
    name: 'innosilicon-a9',
    family: 'innosilicon',
    model: 'Innosilicon A9 ZMaster',
    protocol: 'cgminer',
    replies: {
      summary: 'innosilicon_a9_summary.txt',
      stats: 'innosilicon_a9_stats.txt',
      pools: 'innosilicon_a9_pools.txt',
    },
    notes: 'Equihash: MHS fields on the Sol/s scale.',
  },
  {
    name: 'innosilicon-a9-old',
    family: 'innosilicon',
    model: 'Innosilicon A9 ZMaster',
    protocol: 'cgminer',
    replies: { stats: 'innosilicon_a9_stats_2.txt', pools: 'innosilicon_a9_pools_2.txt' },
    notes: 'sgminer 4.4.2: STATS0/STATS1 and POOL0/POOL1 section names.',
  },
  {
    name: 'bitaxe-supra',
    family: 'bitaxe',
    model: 'Bitaxe Supra',
    protocol: 'bitaxe-http',
    httpInfo: 'bitaxe_supra_system-info.txt',
    notes:
      'HTTP GET /api/system/info; REFORMATTED BY SOURCE (2-space indent). Captured 4 s after boot: hashRate 0.',
  },
  {
    name: 'whatsminer-v3',
    family: 'whatsminer',
    model: 'Whatsminer M60S',
    protocol: 'whatsminer-v3',
    synthesized: true,
    notes:
      'API v3 (4433 framing). SYNTHESIZED from docs/protocols.md "Whatsminer" field names: no real v3 capture exists.',
  },
  {
    name: 'cgminer-generic',
    family: 'cgminer',
    model: 'cgminer',
    protocol: 'cgminer',
    synthesized: true,
    notes:
      'Stock cgminer 4.11.1 shapes (docs/protocols.md "cgminer API framing"). SYNTHESIZED: no stock cgminer capture.',
  },
];

/** A personality with its replies loaded. */
export interface Personality extends PersonalitySpec {
  /** JSON-mode single replies, without any trailing NUL. */
  single: ReadonlyMap<string, string>;
  text: ReadonlyMap<string, string>;
  /** STATUS Description for replies the emulator builds (errors). */
  description: string;
  /** STATUS When of the captures (the miner's clock). */
  when: number;
  /** Elapsed of the captures, s. */
  elapsedS: number;
  /** The captures use `", "` / `": "` separators (S19-era bmminer). */
  spaced: boolean;
  /** Whatsminer: the reply to a cgminer command sent with a `cmd` key. */
  cmdKeyError?: string;
}

export function personalityNames(): string[] {
  return PERSONALITY_SPECS.map((p) => p.name);
}

const cache = new Map<string, Personality>();

/** Load a personality by name (cached; fixtures are read once per process). */
export function loadPersonality(name: string): Personality {
  const hit = cache.get(name);
  if (hit) return hit;
  const spec = PERSONALITY_SPECS.find((p) => p.name === name);
  if (!spec) throw EmuErrors.unknownPersonality(name, personalityNames().join(', '));
  if (!fixturesAvailable()) throw EmuErrors.fixturesMissing(fixturesDir());
  const single = new Map<string, string>();
  const text = new Map<string, string>();
  for (const [cmd, file] of Object.entries(spec.replies ?? {}))
    single.set(cmd, stripNul(readFixtureText(file)));
  for (const [cmd, [file, key]] of Object.entries(spec.fromJoin ?? {})) {
    const part = cutJoinPart(readFixtureText(file), key);
    if (part !== null) single.set(cmd, part);
  }
  for (const [cmd, file] of Object.entries(spec.textReplies ?? {})) {
    const captured = stripNul(readFixtureText(file));
    text.set(cmd, captured);
    // The same miner answers a JSON request in JSON: derive it from the text capture (avalon_mini3_version.txt
    // is only known in pipe format), so JSON clients see the same fields.
    if (!single.has(cmd)) {
      const decoded = decodeReply(captured);
      if (decoded.format === 'text') single.set(cmd, JSON.stringify(decoded.value));
    }
  }
  if (spec.whatsminer) {
    for (const [cmd, file] of Object.entries(spec.whatsminer.own))
      single.set(cmd, stripNul(readFixtureText(file)));
  }
  if (spec.name === 'cgminer-generic') for (const [cmd, body] of genericCgminer()) single.set(cmd, body);
  const sample = [...single.values(), ...text.values()];
  const spaced = sample.some((s) => s.startsWith('{"STATUS": [{"STATUS": '));
  const description =
    firstMatch(sample, /"Description"\s*:\s*"([^"\\]*)"/) ??
    firstMatch(sample, /Description=([^,|]*)/) ??
    'cgminer 4.11.1';
  const when = Number(firstMatch(sample, /"When"\s*:\s*(\d+)/) ?? firstMatch(sample, /When=(\d+)/) ?? 0);
  const stats = single.get('stats');
  if (spec.deriveSummary && stats !== undefined && !single.has('summary')) {
    single.set('summary', deriveAntminerSummary(stats, single.get('pools'), spaced));
  }
  if (spec.deriveEstats && stats !== undefined && !single.has('estats'))
    single.set('estats', dropPoolRows(stats));
  const httpBody = spec.httpInfo ? readFixtureText(spec.httpInfo) : undefined;
  const elapsedS =
    findElapsed(single.get('summary') ?? '') ??
    findElapsed(single.get('stats') ?? '') ??
    sample.map(findElapsed).find((e) => e !== null) ??
    Number(/"uptimeSeconds"\s*:\s*(\d+)/.exec(httpBody ?? '')?.[1] ?? 3600);
  const loaded: Personality = {
    ...spec,
    ...(httpBody !== undefined ? { httpInfo: httpBody } : {}),
    ...(spec.whatsminer ? { cmdKeyError: stripNul(readFixtureText(spec.whatsminer.cmdKeyError)) } : {}),
    single,
    text,
    description,
    when,
    elapsedS,
    spaced,
  };
  cache.set(name, loaded);
  return loaded;
}

/**
 * Fixture bytes as a string, one char per byte (latin1), so replies go back out byte for byte even if a
 * capture ever holds non-UTF-8 bytes (pool names, docs/protocols.md "cgminer API framing"). The server encodes with latin1 too.
 */
function readFixtureText(file: string): string {
  return readFixture(file).toString('latin1');
}

function firstMatch(texts: string[], re: RegExp): string | undefined {
  for (const t of texts) {
    const m = re.exec(t);
    if (m?.[1] !== undefined) return m[1];
  }
  return undefined;
}

/** Captures that kept the firmware's trailing NUL (avalon_1166pro_version.txt): the server adds its own. */
function stripNul(s: string): string {
  return s.endsWith('\0') ? s.slice(0, -1) : s;
}

/**
 * End index (exclusive) of the JSON value that opens at `start` (`{` or `[`), honouring strings and escapes;
 * -1 when it does not close. Works on malformed text too: it only counts brackets outside strings.
 */
export function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The one element of `"key":[ … ]` in a joined reply, as its original text. */
export function cutJoinPart(joined: string, key: string): string | null {
  const m = new RegExp(`"${key}"\\s*:\\s*\\[`).exec(joined);
  if (!m) return null;
  const open = joined.indexOf('{', m.index + m[0].length);
  if (open === -1) return null;
  const end = balancedEnd(joined, open);
  return end === -1 ? null : joined.slice(open, end);
}

/**
 * Parse a reply that may carry the known firmware defects (`}{`, `\'`, trailing junk), for the emulator's own
 * use (deriving a summary, text mode). Returns null when even that fails.
 */
export function lenientParse(text: string): Record<string, unknown> | null {
  const attempts = [text];
  const start = text.indexOf('{');
  const end = start === -1 ? -1 : balancedEnd(text, start);
  const body = end === -1 ? text : text.slice(start, end);
  attempts.push(body, body.replace(/\}\s*\{/g, '},{').replace(/\\'/g, "'"));
  for (const a of attempts) {
    try {
      const v: unknown = JSON.parse(a);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // try the next repair
    }
  }
  return null;
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : Number.NaN;
  return Number.isFinite(n) ? n : 0;
}

/**
 * A `summary` reply for a stock Antminer, built from the same rig's captured stats (Elapsed, GHS 5s/av, chain
 * hardware errors) and pools (share counters). There is no captured Antminer summary in the set; field names
 * and cgminer number formats follow docs/protocols.md "cgminer API framing", "Antminer", and `GHS 5s` keeps the stats capture's form
 * (a string on S9-era bmminer, a number on S19).
 */
export function deriveAntminerSummary(
  statsText: string,
  poolsText: string | undefined,
  spaced: boolean,
): string {
  const stats = lenientParse(statsText);
  const statusArr = stats?.STATUS;
  const status = (Array.isArray(statusArr) ? statusArr[0] : statusArr) as Record<string, unknown> | undefined;
  const rows = Array.isArray(stats?.STATS) ? (stats.STATS as Record<string, unknown>[]) : [];
  const drv = rows.find((r) => r && typeof r === 'object' && 'Elapsed' in r) ?? {};
  const pools = poolsText ? lenientParse(poolsText) : null;
  const poolRows = Array.isArray(pools?.POOLS) ? (pools.POOLS as Record<string, unknown>[]) : [];
  const sum = (k: string) => poolRows.reduce((a, p) => a + num(p[k]), 0);
  const elapsed = num(drv.Elapsed);
  const ghs5s = drv['GHS 5s'];
  const ghsAv = num(drv['GHS av']);
  let hw = 0;
  for (const [k, v] of Object.entries(drv)) if (/^chain_hw\d+$/.test(k)) hw += num(v);
  const accepted = sum('Accepted');
  const diffAcc = sum('Difficulty Accepted');
  const diffRej = sum('Difficulty Rejected');
  const diffStale = sum('Difficulty Stale');
  const totalDiff = diffAcc + diffRej + diffStale;
  const pct = (a: number) => (totalDiff > 0 ? (a / totalDiff) * 100 : 0);
  const fields: [string, string][] = [
    ['Elapsed', elapsed.toFixed(0)],
    ['GHS 5s', typeof ghs5s === 'string' ? JSON.stringify(ghs5s) : num(ghs5s).toFixed(2)],
    ['GHS av', ghsAv.toFixed(2)],
    ['Found Blocks', '0'],
    ['Getworks', sum('Getworks').toFixed(0)],
    ['Accepted', accepted.toFixed(0)],
    ['Rejected', sum('Rejected').toFixed(0)],
    ['Hardware Errors', hw.toFixed(0)],
    ['Utility', (elapsed > 0 ? (accepted / elapsed) * 60 : 0).toFixed(2)],
    ['Discarded', sum('Discarded').toFixed(0)],
    ['Stale', sum('Stale').toFixed(0)],
    ['Get Failures', sum('Get Failures').toFixed(0)],
    ['Remote Failures', sum('Remote Failures').toFixed(0)],
    ['Total MH', (ghsAv * 1000 * elapsed).toFixed(4)],
    ['Difficulty Accepted', diffAcc.toFixed(8)],
    ['Difficulty Rejected', diffRej.toFixed(8)],
    ['Difficulty Stale', diffStale.toFixed(8)],
    ['Best Share', Math.max(0, ...poolRows.map((p) => num(p['Best Share']))).toFixed(0)],
    ['Device Hardware%', num(drv['Device Hardware%']).toFixed(4)],
    ['Pool Rejected%', pct(diffRej).toFixed(4)],
    ['Pool Stale%', pct(diffStale).toFixed(4)],
    ['Last getwork', '0'],
  ];
  const c = spaced ? ', ' : ',';
  const k = spaced ? ': ' : ':';
  const obj = (pairs: [string, string][]) => `{${pairs.map(([n, v]) => `"${n}"${k}${v}`).join(c)}}`;
  const head = obj([
    ['STATUS', '"S"'],
    ['When', num(status?.When).toFixed(0)],
    ['Code', '11'],
    ['Msg', '"Summary"'],
    ['Description', JSON.stringify(String(status?.Description ?? 'cgminer 1.0.0'))],
  ]);
  return `{"STATUS"${k}[${head}]${c}"SUMMARY"${k}[${obj(fields)}]${c}"id"${k}1}`;
}

/**
 * cgminer's `estats` is `stats` without the per-pool rows (`{"STATS":1,"ID":"POOL0",…}`); cut them out of the
 * captured text so everything else stays byte for byte.
 */
export function dropPoolRows(stats: string): string {
  let out = stats;
  for (;;) {
    const m = /,\s*\{"STATS":\d+,"ID":"POOL\d+"/.exec(out);
    if (!m) return out;
    const open = out.indexOf('{', m.index);
    const end = balancedEnd(out, open);
    if (end === -1) return out;
    out = out.slice(0, m.index) + out.slice(end);
  }
}

/** Stock cgminer 4.11.1 reply shapes (docs/protocols.md "cgminer API framing"): a synthesized generic rig. */
function genericCgminer(): Map<string, string> {
  const when = 1755615295;
  const st = (code: number, msg: string) =>
    `{"STATUS":"S","When":${when},"Code":${code},"Msg":"${msg}","Description":"cgminer 4.11.1"}`;
  const m = new Map<string, string>();
  m.set(
    'version',
    `{"STATUS":[${st(22, 'CGMiner versions')}],"VERSION":[{"CGMiner":"4.11.1","API":"3.7"}],"id":1}`,
  );
  m.set(
    'summary',
    `{"STATUS":[${st(11, 'Summary')}],"SUMMARY":[{"Elapsed":86400,"MHS av":14000000.00,"MHS 5s":14012345.67,"MHS 1m":13998765.43,"MHS 5m":14001234.56,"MHS 15m":13999876.54,"Found Blocks":0,"Getworks":2880,"Accepted":9216,"Rejected":12,"Hardware Errors":40,"Utility":6.40,"Discarded":100000,"Stale":1,"Get Failures":0,"Local Work":4000000,"Remote Failures":0,"Network Blocks":144,"Total MH":1209600000000.0000,"Work Utility":195000.00,"Difficulty Accepted":603979776.00000000,"Difficulty Rejected":786432.00000000,"Difficulty Stale":65536.00000000,"Best Share":123456789,"Device Hardware%":0.0001,"Device Rejected%":0.1300,"Pool Rejected%":0.1300,"Pool Stale%":0.0108,"Last getwork":${when}}],"id":1}`,
  );
  m.set(
    'devs',
    `{"STATUS":[${st(9, '1 ASC(s)')}],"DEVS":[{"ASC":0,"Name":"GEN","ID":0,"Enabled":"Y","Status":"Alive","Temperature":61.00,"MHS av":14000000.00,"MHS 5s":14012345.67,"MHS 1m":13998765.43,"MHS 5m":14001234.56,"MHS 15m":13999876.54,"Accepted":9216,"Rejected":12,"Hardware Errors":40,"Utility":6.40,"Last Share Pool":0,"Last Share Time":${when},"Total MH":1209600000000.0000,"Diff1 Work":600000000,"Difficulty Accepted":603979776.00000000,"Difficulty Rejected":786432.00000000,"Last Share Difficulty":65536.00000000,"No Device":false,"Last Valid Work":${when},"Device Hardware%":0.0001,"Device Rejected%":0.1300,"Device Elapsed":86400}],"id":1}`,
  );
  m.set(
    'pools',
    `{"STATUS":[${st(7, '1 Pool(s)')}],"POOLS":[{"POOL":0,"URL":"stratum+tcp://pool.example:3333","Status":"Alive","Priority":0,"Quota":1,"Long Poll":"N","Getworks":2880,"Accepted":9216,"Rejected":12,"Works":4000000,"Discarded":100000,"Stale":1,"Get Failures":0,"Remote Failures":0,"User":"emu.generic","Last Share Time":${when},"Diff1 Shares":600000000,"Proxy Type":"","Proxy":"","Difficulty Accepted":603979776.00000000,"Difficulty Rejected":786432.00000000,"Difficulty Stale":65536.00000000,"Last Share Difficulty":65536.00000000,"Work Difficulty":65536.00000000,"Has Stratum":true,"Stratum Active":true,"Stratum URL":"pool.example","Stratum Difficulty":65536.00000000,"Has Vmask":true,"Has GBT":false,"Best Share":123456789,"Pool Rejected%":0.1300,"Pool Stale%":0.0108,"Bad Work":0,"Current Block Height":0,"Current Block Version":0}],"id":1}`,
  );
  m.set(
    'config',
    `{"STATUS":[${st(33, 'CGMiner config')}],"CONFIG":[{"ASC Count":1,"PGA Count":0,"Pool Count":1,"Strategy":"Failover","Log Interval":5,"Device Code":"GEN ","OS":"Linux","Hotplug":"None"}],"id":1}`,
  );
  return m;
}
