/**
 * Hashrate plausibility against the model's nameplate (issue 5, protocols.md §6 item 21). Firmware units slip by
 * factors of 1000 (GH/s sent where MH/s is expected, TH/s fields read as GH/s); such a figure is flagged and kept
 * out of the sample rather than stored as truth. Modest deviations (a board down, ramping, overclocked) pass.
 */
import { lookupModel } from './models.js';
import type { MinerReading } from './sample.js';

/** Above this multiple of nameplate, a figure is a unit error, not an overclock. */
export const MAX_RATIO = 30;
/** Below this share of nameplate while the miner says it is mining, a figure is a unit error, not a weak rig. */
export const MIN_RATIO = 1 / 300;

const hs = (v: number) => `${v.toExponential(3)} H/s`;

function implausible(value: number | null, nameplate: number): boolean {
  if (value === null || value <= 0) return false;
  const ratio = value / nameplate;
  return ratio > MAX_RATIO || ratio < MIN_RATIO;
}

/**
 * Check `reading` in place: implausible fleet or board hashrates become null, with a note naming the figure
 * and the nameplate it was judged against, and the reading is marked partial. Returns the names of the
 * fields that were flagged. Readings with no known nameplate are left alone.
 */
export function flagImplausibleHashrate(reading: MinerReading): string[] {
  const nameplate = lookupModel(reading.identity.model)?.hashrate_hs ?? reading.hashrate_nominal_hs;
  if (!nameplate || nameplate <= 0) return [];
  const flagged: string[] = [];
  const check = (field: 'hashrate_hs' | 'hashrate_avg_hs') => {
    const v = reading[field];
    if (!implausible(v, nameplate)) return;
    reading.notes.push(
      `implausible ${field} ${hs(v!)} for ${reading.identity.model ?? 'this rig'} (nameplate ${hs(nameplate)}): likely a unit error, not stored`,
    );
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
      b.hashrate_hs = null;
      flagged.push(`boards[${b.index}].hashrate_hs`);
    }
  }
  if (flagged.length && reading.support === 'full') reading.support = 'partial';
  return flagged;
}
