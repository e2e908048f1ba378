/**
 * Recorded market values → the step series the money core cuts a period with:
 * - difficulty: each recorded value holds from its instant until the next (difficulty changes only at a
 *   retarget, so an outage does not make it unknown);
 * - block reward (subsidy + fees): the subsidy from recorded heights (halving cut at the halving block), the
 *   fees from the latest fee figure no older than `feesValidMs` (a fee share is turned into BTC per block with
 *   the subsidy in force); past that age the reward is missing, never carried silently;
 * - price: one per local day of the site, the last price recorded inside that day; a day with none has no
 *   price.
 */
import {
  btcToSats,
  daysBetween,
  decimal,
  feesFromShare,
  type MarketKey,
  Ratio,
  type Step,
  stepAt,
  subsidySteps,
  usdToMicro,
} from '../../economics/index.js';
import type { MarketKind, MarketStore, MarketValue } from './store.js';

export interface MarketSeries {
  steps: Record<MarketKey, Step<Ratio>[]>;
  /** A step's end: price holds only for its day, fees for their validity. */
  validUntil: Partial<Record<MarketKey, (s: Step<Ratio>) => number>>;
  /** Local day starts inside the period (cut points for per-day figures). */
  dayCuts: number[];
}

/** How far before `fromMs` to look for the values in force (difficulty epochs, heights, fees). */
const LOOKBACK_MS = 60 * 86_400_000;

function label(v: MarketValue): string {
  return `${v.source} (${v.basis})`;
}

/** One value per instant: when two sources recorded the same instant, the later recording wins. */
function dedupe(values: MarketValue[]): MarketValue[] {
  const by = new Map<number, MarketValue>();
  for (const v of values) {
    const prev = by.get(v.at_ms);
    if (!prev || v.recorded_ms >= prev.recorded_ms) by.set(v.at_ms, v);
  }
  return [...by.values()].sort((a, b) => a.at_ms - b.at_ms);
}

export function marketSeries(
  store: MarketStore,
  fromMs: number,
  toMs: number,
  tz: string,
  feesValidMs: number,
): MarketSeries {
  const get = (k: MarketKind, lookback = LOOKBACK_MS) => dedupe(store.series(k, fromMs - lookback, toMs));

  const difficulty: Step<Ratio>[] = get('difficulty').map((v) => ({
    at_ms: v.at_ms,
    value: decimal(v.value, 'difficulty'),
    source: label(v),
  }));

  const heights = get('height').map((v) => ({ at_ms: v.at_ms, height: Number(v.value) }));
  const subsidy = subsidySteps(heights);
  const fees = get('fees_btc_per_block');
  const shares = get('fee_share');
  // Reward steps at every subsidy or fee change; fee figures expire after feesValidMs.
  const points = new Set<number>();
  for (const s of subsidy) points.add(s.at_ms);
  for (const f of [...fees, ...shares]) {
    points.add(f.at_ms);
    points.add(f.at_ms + feesValidMs);
  }
  const reward: Step<Ratio>[] = [];
  const feeSteps = fees.map((v) => ({ at_ms: v.at_ms, value: v }));
  const shareSteps = shares.map((v) => ({ at_ms: v.at_ms, value: v }));
  for (const at of [...points].sort((a, b) => a - b)) {
    const sub = stepAt(subsidy, at);
    const f = stepAt(feeSteps, at);
    const sh = stepAt(shareSteps, at);
    const freshFee = f && at < f.at_ms + feesValidMs ? f : null;
    const freshShare = sh && at < sh.at_ms + feesValidMs ? sh : null;
    // The more recent of a per-block figure and a share.
    const useShare = freshShare && (!freshFee || freshShare.at_ms > freshFee.at_ms);
    if (!sub || (!freshFee && !freshShare)) {
      reward.push({ at_ms: at, value: Ratio.ZERO, source: 'missing' });
      continue;
    }
    const feeSats = useShare
      ? feesFromShare(sub.value, decimal(freshShare!.value.value, 'fee_share'))
      : btcToSats(freshFee!.value.value, 'fees_btc_per_block');
    const feeSource = useShare ? label(freshShare!.value) : label(freshFee!.value);
    reward.push({
      at_ms: at,
      value: new Ratio(sub.value).add(feeSats),
      source: `subsidy ${sub.source}; fees ${feeSource}`,
    });
  }

  const days = daysBetween(fromMs, toMs, tz);
  const prices = dedupe(store.series('price_usd', days[0]?.start_ms ?? fromMs, toMs));
  const price: Step<Ratio>[] = [];
  for (const d of days) {
    let last: MarketValue | null = null;
    for (const p of prices) if (p.at_ms >= d.start_ms && p.at_ms < d.end_ms) last = p;
    if (last) {
      price.push({
        at_ms: d.start_ms,
        value: usdToMicro(last.value, 'price_usd'),
        source: `${label(last)}, last price of ${d.date}`,
      });
    }
  }
  const dayEnd = new Map(days.map((d) => [d.start_ms, d.end_ms]));
  return {
    steps: {
      difficulty,
      reward_sats: reward.filter((r, i) => !(r.source === 'missing' && reward[i - 1]?.source === 'missing')),
      price_micro_usd: price,
    },
    validUntil: {
      price_micro_usd: (s) => dayEnd.get(s.at_ms) ?? s.at_ms,
      reward_sats: (s) => (s.source === 'missing' ? s.at_ms : Number.POSITIVE_INFINITY),
    },
    dayCuts: days.map((d) => d.start_ms),
  };
}

export interface LatestInput<T> {
  value: T;
  at_ms: number;
  source: string;
  basis: string;
}

export interface LatestMarket {
  difficulty: LatestInput<Ratio> | null;
  height: LatestInput<number> | null;
  subsidy_sats: LatestInput<bigint> | null;
  /** Fees per block in sats, from a per-block figure or a share; null when none is fresh. */
  fees_sats: LatestInput<Ratio> | null;
  price_micro_usd: LatestInput<Ratio> | null;
  /** Inputs missing or too old to use. */
  missing: string[];
}

/** A price older than this is not used for "now" figures. */
export const PRICE_MAX_AGE_MS = 86_400_000;

/** The latest recorded inputs usable at `nowMs`. */
export function latestMarket(store: MarketStore, nowMs: number, feesValidMs: number): LatestMarket {
  const pick = (k: MarketKind) => {
    const v = store.latest(k);
    return v && v.at_ms <= nowMs + 3_600_000 ? v : null;
  };
  const missing: string[] = [];
  const d = pick('difficulty');
  const h = pick('height');
  const f = pick('fees_btc_per_block');
  const sh = pick('fee_share');
  const p = pick('price_usd');
  const wrap = <T>(v: MarketValue, value: T): LatestInput<T> => ({
    value,
    at_ms: v.at_ms,
    source: v.source,
    basis: v.basis,
  });
  const difficulty = d ? wrap(d, decimal(d.value, 'difficulty')) : null;
  const height = h ? wrap(h, Number(h.value)) : null;
  const subsidy = h ? wrap(h, subsidySteps([{ at_ms: h.at_ms, height: Number(h.value) }])[0]!.value) : null;
  const freshF = f && nowMs - f.at_ms < feesValidMs ? f : null;
  const freshS = sh && nowMs - sh.at_ms < feesValidMs ? sh : null;
  let fees: LatestInput<Ratio> | null = null;
  if (freshS && (!freshF || freshS.at_ms > freshF.at_ms)) {
    if (subsidy) fees = wrap(freshS, feesFromShare(subsidy.value, decimal(freshS.value, 'fee_share')));
  } else if (freshF) fees = wrap(freshF, btcToSats(freshF.value, 'fees_btc_per_block'));
  const price = p && nowMs - p.at_ms <= PRICE_MAX_AGE_MS ? wrap(p, usdToMicro(p.value, 'price_usd')) : null;
  if (!difficulty) missing.push('difficulty');
  if (!height) missing.push('height');
  if (!fees) missing.push('fees');
  if (!price) missing.push(p ? 'price_usd (older than 24 h)' : 'price_usd');
  return { difficulty, height, subsidy_sats: subsidy, fees_sats: fees, price_micro_usd: price, missing };
}
