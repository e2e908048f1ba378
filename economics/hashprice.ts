/**
 * Expected mining revenue, hashvalue and hashprice (see docs/economics.md).
 *
 * A hash wins a block with probability 1 / (D · 2^32) and a block pays subsidy + fees, so
 *   expected sats = hashes · (S + F) / (D · 2^32)
 *   hashvalue (sats per TH/s per day) = 1e12 · 86,400 · (S + F) / (D · 2^32)
 *   hashprice ($ per TH/s per day) = hashvalue · P / 1e8;  per PH/s: × 1,000
 * The difficulty-1 target is 0xffff · 2^208, so the exact expected hashes per block are D · 2^48 / 0xffff,
 * 1.5e-5 more than D · 2^32. Published indexes use 2^32 and so do we.
 *
 * Pool payout: FPPS (default) and PPS pay per share, so their revenue is the expected value minus the pool fee
 * (PPS pays the subsidy part only; fees, when the pool pays them, come through the fee figure). PPLNS pays from
 * blocks the pool actually finds: the figure here is its expected value only, any real month carries pool luck.
 */
import { invalidInput } from './errors.js';
import { decimal, MICRO_PER_USD, Ratio, SATS_PER_BTC } from './exact.js';

export const TWO_32 = 4_294_967_296n;
export const SECONDS_PER_DAY = 86_400n;
export const HASHES_PER_TH = 1_000_000_000_000n;

export type PayoutScheme = 'fpps' | 'pps' | 'pplns';
export const PAYOUT_SCHEMES: Record<PayoutScheme, string> = {
  fpps: 'full pay per share: the pool pays the expected subsidy and fees per share, minus its fee; it carries the luck',
  pps: 'pay per share: the pool pays the expected subsidy per share, minus its fee; fee revenue only if the fee figure is set for it',
  pplns:
    'pay per last N shares: paid from blocks the pool finds; shown here as the expected value only, real payouts vary with pool luck',
};

/** Positive difficulty as an exact fraction; throws naming the field otherwise. */
export function difficultyOf(d: number | string | Ratio, field = 'difficulty'): Ratio {
  const r = d instanceof Ratio ? d : decimal(d, field);
  if (r.sign() <= 0) throw invalidInput(field, 'must be greater than 0');
  return r;
}

/** A pool fee as a fraction in [0, 1). */
export function poolFeeOf(f: number | string | Ratio, field = 'pool_fee'): Ratio {
  const r = f instanceof Ratio ? f : decimal(f, field);
  if (r.sign() < 0 || r.cmp(new Ratio(1n)) >= 0) {
    throw invalidInput(field, 'must be a fraction from 0 (inclusive) to 1 (exclusive), e.g. 0.02');
  }
  return r;
}

/** Fees per block from a published fee share: F = S · share / (1 − share), share = fees / (subsidy + fees). */
export function feesFromShare(
  subsidySats: bigint,
  share: number | string | Ratio,
  field = 'fee_share',
): Ratio {
  const s = share instanceof Ratio ? share : decimal(share, field);
  if (s.sign() < 0 || s.cmp(new Ratio(1n)) >= 0) {
    throw invalidInput(field, 'must be a fraction from 0 (inclusive) to 1 (exclusive)');
  }
  return new Ratio(subsidySats).mul(s).div(new Ratio(1n).sub(s));
}

/** Expected satoshis for `hashes` hashes at difficulty D and `rewardSats` (S + F) per block. */
export function expectedSats(hashes: Ratio, difficulty: Ratio, rewardSats: Ratio): Ratio {
  return hashes.mul(rewardSats).div(difficulty.mul(TWO_32));
}

/** Expected satoshis per day for a hashrate in TH/s. */
export function expectedSatsPerDay(hashrateThs: Ratio, difficulty: Ratio, rewardSats: Ratio): Ratio {
  return expectedSats(hashrateThs.mul(HASHES_PER_TH).mul(SECONDS_PER_DAY), difficulty, rewardSats);
}

/** Hashvalue in sats per TH/s per day. */
export function hashvalueSatsPerThDay(difficulty: Ratio, rewardSats: Ratio): Ratio {
  return expectedSatsPerDay(new Ratio(1n), difficulty, rewardSats);
}

/** Micro-dollars for `sats` satoshis at a price in micro-dollars per BTC. */
export function satsToMicroUsd(sats: Ratio, priceMicroPerBtc: Ratio): Ratio {
  return sats.mul(priceMicroPerBtc).div(SATS_PER_BTC);
}

export interface Hashprice {
  /** Gross hashvalue, sats per TH/s per day (exact). */
  hashvalue_sats_per_th_day: Ratio;
  /** Gross hashprice, micro-dollars per TH/s per day (exact). */
  hashprice_micro_usd_per_th_day: Ratio;
  /** Gross hashprice, micro-dollars per PH/s per day (exact). */
  hashprice_micro_usd_per_ph_day: Ratio;
  /** The same three after the pool fee. */
  net_hashvalue_sats_per_th_day: Ratio;
  net_hashprice_micro_usd_per_th_day: Ratio;
  net_hashprice_micro_usd_per_ph_day: Ratio;
}

/** Network hashprice as indexes quote it (gross), with the net after `poolFee` beside it. */
export function hashprice(
  difficulty: Ratio,
  rewardSats: Ratio,
  priceMicroPerBtc: Ratio,
  poolFee = Ratio.ZERO,
): Hashprice {
  const hv = hashvalueSatsPerThDay(difficulty, rewardSats);
  const hp = satsToMicroUsd(hv, priceMicroPerBtc);
  const keep = new Ratio(1n).sub(poolFee);
  return {
    hashvalue_sats_per_th_day: hv,
    hashprice_micro_usd_per_th_day: hp,
    hashprice_micro_usd_per_ph_day: hp.mul(1000n),
    net_hashvalue_sats_per_th_day: hv.mul(keep),
    net_hashprice_micro_usd_per_th_day: hp.mul(keep),
    net_hashprice_micro_usd_per_ph_day: hp.mul(1000n).mul(keep),
  };
}

/** Network hashrate implied by difficulty, H/s: D · 2^32 / 600. */
export function networkHashrateHs(difficulty: Ratio): Ratio {
  return difficulty.mul(TWO_32).div(600n);
}

export { MICRO_PER_USD };
