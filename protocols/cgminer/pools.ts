/** POOLS rows → PoolReading (protocols.md §1.7, §2.5). Shared by every cgminer-derived parser. */
import type { MinerReading, PoolReading } from '../sample.js';
import { bool, num, rows, str, sumOrNull } from './values.js';

export function parsePools(body: unknown): PoolReading[] {
  return rows(body, 'POOLS').map((p, i) => ({
    // POOL is 0-based in cgminer and 1-based on Whatsminer (whatsminer_m31s_pools.txt): keep the firmware's own.
    index: num(p['POOL']) ?? i,
    url: str(p['URL']),
    user: str(p['User']),
    status: str(p['Status']),
    active: bool(p['Stratum Active']),
    accepted: num(p['Accepted']),
    rejected: num(p['Rejected']),
    stale: num(p['Stale']),
  }));
}

/** Share totals over all pools (what SUMMARY would say), for firmwares polled without `summary`. */
export function poolTotals(body: unknown): {
  accepted: number | null;
  rejected: number | null;
  stale: number | null;
  difficulty_accepted: number | null;
} {
  const list = rows(body, 'POOLS');
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
