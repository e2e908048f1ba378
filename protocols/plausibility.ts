/**
 * Hashrate plausibility against the model's nameplate (issue 5, docs/protocols.md, "## Units and plausibility"). Firmware units slip by
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
