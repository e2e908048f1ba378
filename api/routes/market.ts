import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { EconomicsApiErrors, latestMarket } from '../../collector/views.js';
import {
  btcToSats,
  decimal,
  feesFromShare,
  hashprice,
  invalidInput,
  MICRO_PER_USD,
  poolFeeOf,
  Ratio,
  ROUNDING,
  safeInt,
  subsidySats,
  usdToMicro,
} from '../../economics/index.js';
import type { ApiDeps } from '../deps.js';
import { parseOrThrow, timeParam } from '../query.js';
import { bool, errorReply, int, num, obj, queryString, str } from './schemas.js';

const DECIMAL = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;
const decimalParam = z
  .string({ error: (iss) => (Array.isArray(iss.input) ? 'given more than once' : 'expected a number') })
  .refine(
    (t) => DECIMAL.test(t.trim()),
    'expected a plain non-negative number such as 83148355189239.77 or 0.02',
  );

const hashpriceQuery = z
  .object({
    difficulty: decimalParam.optional(),
    btc_price_usd: decimalParam.optional(),
    height: decimalParam.optional(),
    subsidy_btc: decimalParam.optional(),
    fees_btc_per_block: decimalParam.optional(),
    fee_share: decimalParam.optional(),
    pool_fee: decimalParam.optional(),
  })
  .strict();

const historyQuery = z.object({ from: timeParam.optional(), to: timeParam.optional() }).strict();
const MAX_HISTORY_MS = 400 * 86_400_000;

const iso = (ms: number) => new Date(ms).toISOString();

const inputSchema = obj({
  value: num('The value used.'),
  given: bool('true when given in the query; false when taken from the latest recorded value.'),
  source: str('query, or the recorded source with its basis and time.'),
});

const hashpriceFigures = obj({
  hashvalue_sats_per_th_day: num('Sats per TH/s per day (6 decimals).'),
  hashvalue_sats_per_ph_day: int('Sats per PH/s per day, rounded half to even.'),
  hashprice_usd_per_th_day_micro: int('Micro-dollars per TH/s per day.'),
  hashprice_usd_per_ph_day_micro: int('Micro-dollars per PH/s per day.'),
  hashprice_usd_per_ph_day: str('Dollars per PH/s per day, 2 decimals, as indexes quote it.'),
});

export const marketRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const now = () => deps.now?.() ?? Date.now();
  const econ = () => {
    if (!deps.economics) throw EconomicsApiErrors.unavailable();
    return deps.economics;
  };

  app.get(
    '/market',
    {
      schema: {
        summary: 'Latest recorded market inputs with time, source and basis, and provider status',
        response: {
          200: obj({
            at_ms: int('Now.'),
            difficulty: obj({
              value: num('Network difficulty.'),
              at_ms: int('Holds from.'),
              source: str(''),
              basis: str(''),
            }),
            height: obj({ value: int('Block height.'), at_ms: int(''), source: str(''), basis: str('') }),
            subsidy_sats: int('Block subsidy at that height.'),
            fees_sats_per_block: obj({
              value: int('Fees per block, sats.'),
              at_ms: int(''),
              source: str(''),
              basis: str(''),
            }),
            btc_price_usd: obj({
              value: num('BTC price, USD.'),
              at_ms: int(''),
              source: str(''),
              basis: str(''),
            }),
            missing: { type: 'array', items: { type: 'string' } },
            providers: { type: 'array', items: obj({}) },
          }),
          501: errorReply,
          503: errorReply,
        },
      },
    },
    async () => {
      const e = econ();
      const t = now();
      const m = latestMarket(e.market.store, t, e.settings.fees_valid_ms);
      const wrap = <T>(
        v: { value: T; at_ms: number; source: string; basis: string } | null,
        f: (x: T) => number,
      ) => (v ? { value: f(v.value), at_ms: v.at_ms, source: v.source, basis: v.basis } : null);
      return {
        at_ms: t,
        difficulty: wrap(m.difficulty, (r) => r.toNumber()),
        height: wrap(m.height, (h) => h),
        subsidy_sats: m.subsidy_sats ? safeInt(m.subsidy_sats.value) : null,
        fees_sats_per_block: wrap(m.fees_sats, (r) => safeInt(r.round())),
        btc_price_usd: wrap(m.price_micro_usd, (r) => r.div(MICRO_PER_USD).toNumber()),
        missing: m.missing,
        providers: e.market.statuses(),
      };
    },
  );

  app.get(
    '/market/history',
    {
      schema: {
        summary: 'Every recorded market value in [from, to), with time, source and basis',
        querystring: {
          type: 'object',
          properties: {
            from: queryString('ISO-8601 or ms; default to − 7 days'),
            to: queryString('ISO-8601 or ms; default now'),
          },
        },
        response: {
          200: obj({ from_ms: int(''), to_ms: int(''), values: { type: 'array', items: obj({}) } }),
          400: errorReply,
        },
      },
    },
    async (request) => {
      const e = econ();
      const q = parseOrThrow(historyQuery, request.query);
      const to = q.to ?? now();
      const from = q.from ?? to - 7 * 86_400_000;
      if (from >= to) throw invalidInput('from', 'must be before to');
      if (to - from > MAX_HISTORY_MS) throw invalidInput('from', 'range longer than 400 days');
      return { from_ms: from, to_ms: to, values: e.market.store.history(from, to) };
    },
  );

  app.get(
    '/market/hashprice',
    {
      schema: {
        summary: 'What-if hashprice: network (gross) hashvalue and hashprice, and the net after the pool fee',
        querystring: {
          type: 'object',
          properties: {
            difficulty: queryString('Network difficulty (> 0).'),
            btc_price_usd: queryString('BTC price, USD (> 0).'),
            height: queryString('Block height: the subsidy by the halving schedule.'),
            subsidy_btc: queryString('Subsidy per block, BTC (instead of height).'),
            fees_btc_per_block: queryString('Fees per block, BTC.'),
            fee_share: queryString('Fees / (subsidy + fees), 0 ≤ x < 1 (instead of fees_btc_per_block).'),
            pool_fee: queryString('Pool fee fraction, 0 ≤ x < 1; default economics.pool_fee.'),
          },
        },
        response: {
          200: obj({
            inputs: obj({
              difficulty: inputSchema,
              btc_price_usd: inputSchema,
              subsidy_sats: inputSchema,
              fees_sats_per_block: inputSchema,
              pool_fee: inputSchema,
            }),
            gross: hashpriceFigures,
            net: hashpriceFigures,
            rounding: str(''),
          }),
          400: errorReply,
        },
      },
    },
    async (request) => {
      const q = parseOrThrow(hashpriceQuery, request.query);
      const t = now();
      const m = deps.economics
        ? latestMarket(deps.economics.market.store, t, deps.economics.settings.fees_valid_ms)
        : null;
      const rec = (v: { at_ms: number; source: string; basis: string }) =>
        `recorded: ${v.source} (${v.basis}) at ${iso(v.at_ms)}`;
      const none = (field: string) => invalidInput(field, 'not given and no recorded value to use');
      if (q.height !== undefined && q.subsidy_btc !== undefined) {
        throw invalidInput('subsidy_btc', 'give height or subsidy_btc, not both');
      }
      if (q.fees_btc_per_block !== undefined && q.fee_share !== undefined) {
        throw invalidInput('fee_share', 'give fees_btc_per_block or fee_share, not both');
      }

      let difficulty: Ratio;
      let dSrc = 'query';
      if (q.difficulty !== undefined) {
        difficulty = decimal(q.difficulty, 'difficulty');
        if (difficulty.sign() <= 0) throw invalidInput('difficulty', 'must be greater than 0');
      } else if (m?.difficulty) {
        difficulty = m.difficulty.value;
        dSrc = rec(m.difficulty);
      } else throw none('difficulty');

      let price: Ratio;
      let pSrc = 'query';
      if (q.btc_price_usd !== undefined) {
        price = usdToMicro(q.btc_price_usd, 'btc_price_usd');
        if (price.sign() <= 0) throw invalidInput('btc_price_usd', 'must be greater than 0');
      } else if (m?.price_micro_usd) {
        price = m.price_micro_usd.value;
        pSrc = rec(m.price_micro_usd);
      } else throw none('btc_price_usd');

      let subsidy: Ratio;
      let sSrc = 'query';
      let sGiven = true;
      if (q.height !== undefined) {
        const h = Number(q.height);
        if (!Number.isSafeInteger(h)) throw invalidInput('height', 'must be a whole block height');
        subsidy = new Ratio(subsidySats(h));
        sSrc = `query: height ${h}`;
      } else if (q.subsidy_btc !== undefined) {
        subsidy = btcToSats(q.subsidy_btc, 'subsidy_btc');
        if (subsidy.cmp(new Ratio(5_000_000_000n)) > 0)
          throw invalidInput('subsidy_btc', 'above 50 BTC, the largest subsidy');
        if (subsidy.reduced().den !== 1n) throw invalidInput('subsidy_btc', 'finer than a satoshi');
      } else if (m?.subsidy_sats) {
        subsidy = new Ratio(m.subsidy_sats.value);
        sSrc = `${rec(m.subsidy_sats)}, height ${m.height?.value}`;
        sGiven = false;
      } else throw none('height');

      let fees: Ratio;
      let fSrc = 'query';
      let fGiven = true;
      if (q.fees_btc_per_block !== undefined) fees = btcToSats(q.fees_btc_per_block, 'fees_btc_per_block');
      else if (q.fee_share !== undefined) {
        fees = feesFromShare(subsidy.round(), decimal(q.fee_share, 'fee_share'), 'fee_share');
        fSrc = `query: fee_share ${q.fee_share}`;
      } else if (m?.fees_sats) {
        fees = m.fees_sats.value;
        fSrc = rec(m.fees_sats);
        fGiven = false;
      } else throw none('fees_btc_per_block');

      const poolFee = poolFeeOf(q.pool_fee ?? deps.economics?.settings.pool_fee ?? 0, 'pool_fee');
      const reward = subsidy.add(fees);
      if (reward.sign() <= 0)
        throw invalidInput('fees_btc_per_block', 'subsidy + fees is 0: no block reward to price');
      const hp = hashprice(difficulty, reward, price, poolFee);
      const figures = (hv: Ratio, hpTh: Ratio, hpPh: Ratio) => ({
        hashvalue_sats_per_th_day: Math.round(hv.toNumber() * 1e6) / 1e6,
        hashvalue_sats_per_ph_day: safeInt(hv.mul(1000n).round()),
        hashprice_usd_per_th_day_micro: safeInt(hpTh.round()),
        hashprice_usd_per_ph_day_micro: safeInt(hpPh.round()),
        hashprice_usd_per_ph_day: (Number(hpPh.div(10_000n).round()) / 100).toFixed(2),
      });
      return {
        inputs: {
          difficulty: { value: difficulty.toNumber(), given: q.difficulty !== undefined, source: dSrc },
          btc_price_usd: {
            value: price.div(MICRO_PER_USD).toNumber(),
            given: q.btc_price_usd !== undefined,
            source: pSrc,
          },
          subsidy_sats: { value: safeInt(subsidy.round()), given: sGiven, source: sSrc },
          fees_sats_per_block: { value: fees.toNumber(), given: fGiven, source: fSrc },
          pool_fee: {
            value: poolFee.toNumber(),
            given: q.pool_fee !== undefined,
            source: q.pool_fee !== undefined ? 'query' : 'config: economics.pool_fee',
          },
        },
        gross: figures(
          hp.hashvalue_sats_per_th_day,
          hp.hashprice_micro_usd_per_th_day,
          hp.hashprice_micro_usd_per_ph_day,
        ),
        net: figures(
          hp.net_hashvalue_sats_per_th_day,
          hp.net_hashprice_micro_usd_per_th_day,
          hp.net_hashprice_micro_usd_per_ph_day,
        ),
        rounding: ROUNDING,
      };
    },
  );
};
