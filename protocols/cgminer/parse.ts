/**
 * Plain cgminer / bfgminer (and unknown cgminer-API devices) → MinerReading. Pure: takes decoded `summary`,
 * `devs`, `pools`, `version` bodies (any may be missing). Stock cgminer reports MH/s (docs/protocols.md, "## cgminer API framing") with the
 * rolling key named after the log interval (`MHS 5s`, `MHS 20s` on bfgminer, `MHS 30s` on Avalon), so it is
 * found by pattern.
 */

import {
  applyPoolTotals,
  CGMINER_CODE,
  firstRow,
  maxOrNull,
  normMac,
  num,
  type Obj,
  parsePools,
  readStatus,
  rows,
  scale,
  str,
  sumOrNull,
} from '../kit/index.js';
import { emptyBoard, emptyReading, type MinerReading } from '../sample.js';

export interface CgminerParts {
  version?: unknown;
  summary?: unknown;
  devs?: unknown;
  pools?: unknown;
}

/** Seconds after start during which zero hashrate is "ramping", not an error. */
const WARMUP_S = 120;

/** The rolling-window rate key: `MHS 5s`, `MHS 20s`, `MHS 30s`… (and `GHS 5s` on Bitmain-derived builds). */
export function rollingRate(o: Obj | null): { value: number | null; factor: number } {
  if (!o) return { value: null, factor: 1e6 };
  for (const key of Object.keys(o)) {
    const m = /^(M|G|T)HS (\d+)s$/.exec(key);
    if (m) return { value: num(o[key]), factor: m[1] === 'G' ? 1e9 : m[1] === 'T' ? 1e12 : 1e6 };
  }
  return { value: null, factor: 1e6 };
}

function averageRate(o: Obj | null): number | null {
  if (!o) return null;
  if (num(o['MHS av']) !== null) return scale(num(o['MHS av']), 1e6);
  if (num(o['GHS av']) !== null) return scale(num(o['GHS av']), 1e9);
  return null;
}

export function parseCgminer(parts: CgminerParts): MinerReading {
  const r = emptyReading('cgminer');
  const version = firstRow(parts.version, 'VERSION');
  const summary = firstRow(parts.summary, 'SUMMARY');

  if (version) {
    const base = str(version['CGMiner']) ?? str(version['BMMiner']) ?? str(version['Cgminer']);
    // bfgminer puts its own name and version in "Miner" beside a CGMiner-compatible API version (docs/protocols.md, "## cgminer API framing").
    const miner = str(version['Miner']);
    r.identity.firmware =
      miner && /[a-z]/i.test(miner) && !/^\d/.test(miner) ? miner : base ? `cgminer ${base}` : miner;
    r.identity.model = str(version['Type']) ?? str(version['PROD']) ?? str(version['MODEL']);
    r.identity.mac = normMac(version['MAC']);
  }

  if (summary) {
    const rolling = rollingRate(summary);
    r.hashrate_hs = scale(rolling.value, rolling.factor);
    r.hashrate_avg_hs = averageRate(summary);
    r.uptime_s = num(summary['Elapsed']);
    r.shares_accepted = num(summary['Accepted']);
    r.shares_rejected = num(summary['Rejected']);
    r.shares_stale = num(summary['Stale']);
    r.hw_errors = num(summary['Hardware Errors']);
    r.difficulty_accepted = num(summary['Difficulty Accepted']);
  } else {
    r.support = 'partial';
    r.notes.push('no summary reply: totals summed from devices and pools');
  }

  const devs = rows(parts.devs, 'DEVS');
  r.boards = devs.map((d, i) => {
    const b = emptyBoard(i);
    const rolling = rollingRate(d);
    b.hashrate_hs = scale(rolling.value, rolling.factor) ?? averageRate(d);
    const t = num(d['Temperature']);
    // Device temperature; 0 and the -273 sentinel mean "no sensor" (docs/protocols.md, "## Units and plausibility").
    b.temp_board_c = t !== null && t > -40 && t !== 0 && t < 130 ? t : null;
    b.hw_errors = num(d['Hardware Errors']);
    const status = str(d['Status']);
    if (status && status !== 'Alive') r.notes.push(`device ${i} status ${status}`);
    return b;
  });
  r.temp_board_max_c = maxOrNull(r.boards.map((b) => b.temp_board_c));
  if (!summary) {
    r.hashrate_hs = sumOrNull(r.boards.map((b) => b.hashrate_hs));
    r.hw_errors = sumOrNull(r.boards.map((b) => b.hw_errors));
  }

  if (parts.pools !== undefined) {
    r.pools = parsePools(parts.pools);
    if (!summary) applyPoolTotals(r, parts.pools);
  }

  const hs = r.hashrate_hs;
  if (hs !== null && hs > 0) r.state = 'mining';
  else if (parts.devs !== undefined && devs.length === 0) {
    r.state = 'error';
    // Only Code 10 means "the miner has no devices"; a reply without a DEVS section is one we did not understand.
    if (readStatus(parts.devs)?.code === CGMINER_CODE.noDevices)
      r.notes.push('no devices (Code 10: all boards missing or failed)');
    else {
      r.notes.push('the devs reply has no DEVS section rigtel understands');
      r.support = 'partial';
    }
  } else if (r.uptime_s !== null && r.uptime_s < WARMUP_S) r.state = 'ramping';
  else {
    // Plain cgminer has no sleep mode: zero or unknown hashrate after warm-up is a fault (no work, dead devices).
    r.state = 'error';
    r.notes.push(hs === null ? 'no hashrate in the reply' : 'not hashing');
  }
  return r;
}
