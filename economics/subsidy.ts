/**
 * Block subsidy by the halving schedule (Bitcoin consensus, `GetBlockSubsidy`): 50 BTC halved every 210,000
 * blocks by an integer right shift, zero from the 64th halving on. The subsidy of block h depends on h itself,
 * so the halving block (840,000, …) already pays the new, smaller amount.
 */
import { invalidInput } from './errors.js';

export const HALVING_INTERVAL = 210_000;
export const INITIAL_SUBSIDY_SATS = 5_000_000_000n;
export const RETARGET_INTERVAL = 2016;

export function subsidySats(height: number): bigint {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw invalidInput('height', `must be a whole block height >= 0, got ${height}`);
  }
  const halvings = Math.floor(height / HALVING_INTERVAL);
  if (halvings >= 64) return 0n;
  return INITIAL_SUBSIDY_SATS >> BigInt(halvings);
}

/** The first height after `height` at which the subsidy changes (the next halving block). */
export function nextHalvingHeight(height: number): number {
  return (Math.floor(height / HALVING_INTERVAL) + 1) * HALVING_INTERVAL;
}

/** The next difficulty retarget height (a multiple of 2016) after `height`. */
export function nextRetargetHeight(height: number): number {
  return (Math.floor(height / RETARGET_INTERVAL) + 1) * RETARGET_INTERVAL;
}
