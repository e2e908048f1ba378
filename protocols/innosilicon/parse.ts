/**
 * Innosilicon (innominer / sgminer fork) over the cgminer API on 4028 (docs/protocols.md, "## Innosilicon").
 * - The A9 ZMaster mines Equihash: its `MHS` fields hold Sol/s-scale numbers (innosilicon_a9_summary.txt:
 *   51274.60 for a ~50 kSol/s machine). rigtel never stores those as SHA-256 H/s: `hashrate_hs` stays null, the
 *   figure goes into a note with its unit, and support is `partial`.
 * - Old sgminer 4.4.2 builds send numbered sections `STATS0`…/`POOL0`… (innosilicon_a9_stats_2.txt).
 * - innominer's summary difficulty/percent fields are garbage (`Difficulty Accepted`:15.84 while pools say
 *   2487729810; `Device Hardware%`:1584), so accepted difficulty is taken from `pools`.
 */
import {
  capRaw,
  count,
  description,
  lookupModel,
  maxOf,
  num,
  parsePools,
  poolsDifficultyAccepted,
  scale,
  section,
  settleState,
  str,
  sumOf,
  temp,
} from '../kit/index.js';
import { emptyBoard, emptyReading, HS, type MinerReading } from '../sample.js';

export interface InnosiliconReplies {
  version?: unknown;
  summary?: unknown;
  stats?: unknown;
  pools?: unknown;
  /** HTTP `/api/type` model when known. */
  model?: string | null;
}

type Algo = 'sha256' | 'equihash' | 'unknown';

/**
 * Innosilicon model → algorithm: the model table (protocols/models.ts) first, then T-series = SHA-256 and
 * A9 = Equihash. Anything else is not guessed.
 */
export function innoAlgorithm(model: string | null): Algo {
  if (!model) return 'unknown';
  const spec = lookupModel(model);
  if (spec?.algorithm === 'sha256') return 'sha256';
  if (spec?.algorithm === 'equihash') return 'equihash';
  if (/\bT\d/i.test(model)) return 'sha256';
  if (/\bA9/i.test(model)) return 'equihash';
  return 'unknown';
}

export function parseInnosilicon(rep: InnosiliconReplies): MinerReading {
  const r = emptyReading('innosilicon');
  r.identity.make = 'Innosilicon';
  const desc =
    Object.values(rep)
      .map((b) => description(b))
      .find((d) => d !== null) ?? null;
  // "innominer a9-1.1.0": the build names the model line.
  const fromDesc = desc ? /innominer\s+([a-z]\d+\+?)/i.exec(desc)?.[1] : undefined;
  r.identity.model = rep.model ?? (fromDesc ? `${fromDesc.toUpperCase()}` : null);
  if (r.identity.model === 'A9') r.identity.model = 'A9 ZMaster';
  r.identity.firmware = desc;
  const algo = innoAlgorithm(r.identity.model);

  const summary = section(rep.summary, 'SUMMARY')[0];
  let nativeNow: number | null = null;
  let nativeAvg: number | null = null;
  if (summary) {
    r.uptime_s = count(summary['Elapsed']);
    r.shares_accepted = count(summary['Accepted']);
    r.shares_rejected = count(summary['Rejected']);
    r.shares_stale = count(summary['Stale']);
    r.hw_errors = count(summary['Hardware Errors']);
    nativeNow = num(summary['MHS 5s']) ?? num(summary['MHS 1m']);
    nativeAvg = num(summary['MHS av']);
  }

  const chains = section(rep.stats, 'STATS', 'STATS').filter((o) => 'Num chips' in o || 'Chain ID' in o);
  chains.forEach((c, i) => {
    const b = emptyBoard(count(c['Chain ID']) ?? count(c['STATS']) ?? i);
    b.chips = count(c['Num active chips']);
    b.chips_expected = count(c['Num chips']);
    b.temp_board_c = temp(c['Temp']);
    b.temp_chip_c = temp(c['Temp max']);
    const hw = Object.entries(c)
      .filter(([k]) => /^\d+ HW errors$/.test(k))
      .map(([, v]) => count(v));
    b.hw_errors = sumOf(hw);
    r.boards.push(b);
  });
  r.temp_board_max_c = maxOf(r.boards.map((b) => b.temp_board_c));
  r.temp_chip_max_c = maxOf(r.boards.map((b) => b.temp_chip_c));
  let chainSum: number | null = null;
  if (chains.length && nativeNow === null && nativeAvg === null) {
    // Only per-chain `MHS av`: its scale differs by build (16500 per chain on sgminer 4.4.2, ~995328 on
    // innominer a9-1.1.0 whose summary says 51274), so the sum is reported without a unit claim.
    chainSum = sumOf(chains.map((c) => num(c['MHS av'])));
  }

  const figures = [
    nativeNow !== null ? `current ${nativeNow}` : null,
    nativeAvg !== null ? `average ${nativeAvg}` : null,
  ].filter(Boolean);
  if (algo === 'sha256') {
    r.hashrate_hs = scale(nativeNow ?? nativeAvg, HS.MH);
    r.hashrate_avg_hs = scale(nativeAvg, HS.MH);
  } else {
    r.support = 'partial';
    if (figures.length && algo === 'equihash') {
      r.notes.push(
        `Equihash miner: hashrate ${figures.join(', ')} Sol/s (the MHS fields are Sol/s-scale, not SHA-256 H/s, so hashrate_hs is null)`,
      );
    } else if (figures.length) {
      r.notes.push(
        `unknown Innosilicon model/algorithm: summary MHS ${figures.join(', ')} kept out of hashrate_hs (unit unverified)`,
      );
    }
    if (chainSum !== null) {
      r.notes.push(`per-chain MHS av total ${chainSum} (scale differs by firmware; not stored as hashrate)`);
    }
    if (algo === 'unknown') r.notes.push('model unknown: hashrate unit cannot be verified');
  }

  if (rep.pools !== undefined) {
    r.pools = parsePools(rep.pools);
    r.difficulty_accepted = poolsDifficultyAccepted(rep.pools);
    if (!summary) {
      r.shares_accepted = sumOf(r.pools.map((p) => p.accepted));
      r.shares_rejected = sumOf(r.pools.map((p) => p.rejected));
      r.shares_stale = sumOf(r.pools.map((p) => p.stale));
    }
  }
  if (algo === 'sha256') settleState(r);
  else {
    // No SHA-256 hashrate by design: state from whether the chains hash at all.
    const hashing = (nativeNow ?? nativeAvg ?? chainSum ?? 0) > 0;
    r.state = summary || chains.length ? (hashing ? 'mining' : 'error') : 'error';
    if (!summary && !chains.length) r.notes.push('no hashrate figure in the replies');
  }
  r.raw = r.support === 'full' ? null : capRaw(JSON.stringify(rep));
  return r;
}

export const innoIdentityHint = (body: unknown): string | null => str(description(body));
