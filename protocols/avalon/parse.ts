/**
 * Canaan Avalon (cgminer 4.11 fork), docs/protocols.md, "## Avalon". Everything interesting sits in one `MM ID0` string of
 * `Key[value]` tokens in `stats`/`estats` (avalon_1047_summary-stats-pools.txt). `When` is uptime-like on these
 * builds (168, 223), so it is never read as a time. Hashrates: summary/devs MH/s, MM tokens GH/s.
 */
import {
  applySummaryCounters,
  capRaw,
  count,
  isObj,
  joinedPart,
  normMac,
  num,
  type Obj,
  parsePools,
  rpm,
  scale,
  section,
  settleState,
  str,
  temp,
} from '../kit/index.js';
import { emptyBoard, emptyReading, HS, type MinerReading } from '../sample.js';

/**
 * `Ver[1047-…] DNA[02…] PVT_T0[ 56  56 …] Nonce Mask[25]` → { Ver: "1047-…", PVT_T0: " 56  56 …", "Nonce Mask": "25" }.
 * The key is the text between the previous `]` and `[`, trimmed, so keys with a space survive. Also accepts the
 * newer `'STATS':{…}` wrapper (Avalon Q). Unbalanced input yields the pairs read so far, never a throw.
 */
export function parseMmId(input: string): Record<string, string> {
  let s = input.trim();
  const wrapped = /^'STATS':\{([\s\S]*)\}$/.exec(s);
  if (wrapped) s = wrapped[1]!;
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < s.length) {
    const open = s.indexOf('[', pos);
    if (open === -1) break;
    const close = s.indexOf(']', open + 1);
    if (close === -1) break;
    const key = s.slice(pos, open).trim();
    if (key) out[key] = s.slice(open + 1, close);
    pos = close + 1;
  }
  return out;
}

/** Whitespace-separated numbers of an MM value (`" 56  56  54"`); non-numbers become null. */
export function mmList(v: string | undefined): (number | null)[] {
  if (v === undefined) return [];
  return v
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((x) => num(x));
}

export function mmNum(v: string | undefined): number | null {
  if (v === undefined) return null;
  return num(v.replace(/%$/, ''));
}

export interface AvalonReplies {
  version?: unknown;
  devdetails?: unknown;
  summary?: unknown;
  /** `stats` or `estats`; both carry the MM ID strings. */
  stats?: unknown;
  devs?: unknown;
  pools?: unknown;
  /** A joined `summary+stats+pools` reply: split into the fields above. */
  joined?: unknown;
}

/** MM ID strings of every module in a stats reply (`MM ID0`, `MM ID1`, `MM ID0:Summary`). */
export function mmModules(stats: unknown): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const o of section(stats, 'STATS')) {
    for (const [key, value] of Object.entries(o)) {
      if (/^MM ID\d+/.test(key) && typeof value === 'string') out.push(parseMmId(value));
    }
  }
  return out;
}

export function avalonModelFromVer(ver: string | null): string | null {
  // Ver[1047-20051101_85dc6f0_0332654]: the model number leads.
  const m = ver ? /^(\d{3,4}[A-Za-z]*(?:-\d+)?)-\d{8}/.exec(ver) : null;
  return m ? `AvalonMiner ${m[1]}` : null;
}

export function parseAvalon(input: AvalonReplies): MinerReading {
  const rep: AvalonReplies = { ...input };
  if (input.joined !== undefined) {
    rep.summary ??= joinedPart(input.joined, 'summary');
    rep.stats ??= joinedPart(input.joined, 'stats') ?? joinedPart(input.joined, 'estats');
    rep.pools ??= joinedPart(input.joined, 'pools');
    rep.devs ??= joinedPart(input.joined, 'devs');
    rep.version ??= joinedPart(input.joined, 'version');
  }
  const r = emptyReading('avalon');
  r.identity.make = 'Canaan';
  const ver: Obj | undefined = section(rep.version, 'VERSION')[0];
  const modules = mmModules(rep.stats);
  const mm = modules[0];
  r.identity.model = str(ver?.['PROD']) ?? avalonModelFromVer(mm?.['Ver'] ?? null);
  const build =
    str(ver?.['VERSION']) ?? str(ver?.['LVERSION']) ?? str(ver?.['CGVERSION']) ?? str(mm?.['Ver']);
  const cg = str(ver?.['CGMiner']);
  if (build || cg) r.identity.firmware = [build, cg ? `(cgminer ${cg})` : null].filter(Boolean).join(' ');
  r.identity.mac = normMac(ver?.['MAC']);

  const summary = section(rep.summary, 'SUMMARY')[0];
  if (summary) {
    applySummaryCounters(r, summary);
    // Avalon summary is MH/s; the short window is `MHS 30s` on 10xx/11xx builds.
    r.hashrate_hs = scale(num(summary['MHS 30s']) ?? num(summary['MHS 5s']) ?? num(summary['MHS 1m']), HS.MH);
    r.hashrate_avg_hs = scale(num(summary['MHS av']), HS.MH);
  }
  const devs = section(rep.devs, 'DEVS');
  if (devs.length && r.hashrate_hs === null) {
    let total: number | null = null;
    for (const d of devs) {
      const v = num(d['MHS 30s']) ?? num(d['MHS 1m']) ?? num(d['MHS 5s']);
      if (v !== null) total = (total ?? 0) + v;
    }
    r.hashrate_hs = scale(total, HS.MH);
  }

  let sleeping = false;
  if (mm) {
    r.hashrate_hs ??= scale(mmNum(mm['GHSspd']), HS.GH);
    r.hashrate_avg_hs ??= scale(mmNum(mm['GHSavg']), HS.GH);
    const nominal = mmNum(mm['GHSmm']);
    r.hashrate_nominal_hs = nominal ? scale(nominal, HS.GH) : null;
    r.uptime_s ??= count(mm['Elapsed']);
    // Temp is the intake/ambient sensor; TMax/TAvg are chip figures and read 0 when idle (→ null).
    r.temp_inlet_c = temp(mmNum(mm['ITemp'] ?? mm['Temp']));
    r.temp_chip_max_c = temp(mmNum(mm['TMax'] ?? mm['Tmax']));
    r.temp_outlet_c = temp(mmNum(mm['HBOTemp']));
    for (let i = 1; i <= 8; i++) {
      const v = rpm(mmNum(mm[`Fan${i}`]));
      if (v !== null) r.fans.push({ index: i - 1, rpm: v });
    }
    const boardRates = mmList(mm['MGHS']);
    const boardTmax = mmList(mm['MTmax']);
    const n = Math.max(boardRates.length, boardTmax.length);
    for (let i = 0; i < n; i++) {
      const b = emptyBoard(i);
      b.hashrate_hs = scale(boardRates[i] ?? null, HS.GH);
      b.temp_chip_c = temp(boardTmax[i] ?? null);
      const pvt = mmList(mm[`PVT_T${i}`]);
      b.chips = pvt.length ? pvt.length : null;
      r.boards.push(b);
    }
    // Power: WALLPOWER, else PS[6] (AC input, inferred layout, 7-entry PS only), else PS[4] (DC output).
    const wall = mmNum(mm['WALLPOWER']);
    const ps = mmList(mm['PS']);
    if (wall !== null && wall > 0) {
      r.power_w = wall;
      r.power_source = 'miner';
    } else if (ps.length === 7 && (ps[6] ?? 0) > 0) {
      r.power_w = ps[6]!;
      r.power_source = 'miner';
      r.notes.push('power from PS[6] (AC input; index meaning inferred, docs/protocols.md, "## Avalon")');
    } else if (ps.length >= 5 && (ps[4] ?? 0) > 0) {
      r.power_w = ps[4]!;
      r.power_source = 'miner';
      r.notes.push('power from PS[4] (PSU DC output: understates wall power by about 5–9 %)');
    } else if (ps.length) r.notes.push('PSU block PS[] reports no power on this model');
    sleeping = mmNum(mm['SoftOFF']) === 1;
    const hw = mmNum(mm['HW']);
    r.hw_errors ??= hw;
  } else if (rep.stats !== undefined) {
    r.support = 'partial';
    r.notes.push('stats reply carries no MM ID module string');
  }
  if (modules.length > 1) r.notes.push(`${modules.length} modules: figures are from MM ID0 only`);

  if (rep.pools !== undefined) r.pools = parsePools(rep.pools);
  settleState(r, { sleeping });
  if (r.support !== 'full') r.raw = capRaw(JSON.stringify(input));
  return r;
}

/** Avalon `devdetails` (avalon_1246_devdetails.txt): Driver "avalon10"/Name "AVA10" confirm the family. */
export function avalonDevdetails(body: unknown): { driver: string | null; name: string | null } {
  const d = section(body, 'DEVDETAILS')[0];
  return { driver: str(d?.['Driver']), name: str(d?.['Name']) };
}

export function isAvalonReply(body: unknown): boolean {
  return isObj(body) && mmModules(body).length > 0;
}
