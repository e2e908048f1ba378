import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { EconomicsApiErrors, economicsReport, type Group, liveEconomics } from '../../collector/views.js';
import { invalidInput } from '../../economics/index.js';
import type { ApiDeps } from '../deps.js';
import { parseOrThrow, timeParam } from '../query.js';
import { bool, errorReply, int, num, obj, queryString, str } from './schemas.js';

const MAX_RANGE_MS = 400 * 86_400_000;
const query = z
  .object({
    from: timeParam.optional(),
    to: timeParam.optional(),
    group: z.enum(['fleet', 'rig', 'model', 'rack']).optional(),
  })
  .strict();

const money = (what: string) =>
  int(`${what}, integer micro-dollars (1 USD = 1,000,000), rounded half to even.`);
const figures = obj({
  rigs: int('Rigs with rollups in the period.'),
  hashrate_avg_ths: num('Measured hashrate averaged over the period, TH/s (never nameplate).'),
  revenue: obj({
    expected_sats: int('Expected BTC from measured hashrate, satoshis.'),
    expected_usd_micro: money('Expected revenue at each day’s price'),
    sats_without_price: int('Expected sats in hours with no price (not in the dollar figure).'),
    net_sats: int('After the pool fee.'),
    net_usd_micro: money('After the pool fee'),
  }),
  energy: obj({
    kwh: num('Measured energy, kWh.'),
    kwh_by_source: obj({ pdu: num(''), miner: num(''), estimate: num(''), unknown: num('') }),
    share_by_source: obj({ pdu: num(''), miner: num(''), estimate: num(''), unknown: num('') }),
  }),
  costs_usd_micro: obj(
    {},
    'Cost lines (energy, demand, curtailment_credits ≤ 0, hosting, pool_fees, other_opex, depreciation) and energy_only, cash, all_in; null without a tariff.',
  ),
  cost_per_btc_usd_micro: obj({ energy_only: int(''), cash: int(''), all_in: int('') }),
  j_per_th: num('Σ W / Σ TH/s over the period.'),
  break_even: obj({
    power_usd_per_kwh_micro: money('Electricity price at which net revenue equals energy cost'),
    hashprice_usd_per_th_day_micro: money('Hashprice at which net revenue covers cash cost'),
  }),
  realized_usd_per_th_day_micro: money('The fleet’s net revenue per measured TH/s-day'),
  network_hashprice_usd_per_th_day_micro: money('Network (gross) hashprice, time-weighted over the period'),
  coverage: obj({
    polls_expected: int(''),
    polls_answered: int(''),
    power_expected_h: num(''),
    power_covered_h: num(''),
  }),
});

export const economicsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const now = () => deps.now?.() ?? Date.now();
  const econ = () => {
    if (!deps.economics) throw EconomicsApiErrors.unavailable();
    return deps.economics;
  };

  app.get(
    '/economics',
    {
      schema: {
        summary: 'Revenue, energy by source, costs, cost per BTC, break-even and coverage over a period',
        querystring: {
          type: 'object',
          properties: {
            from: queryString('ISO-8601 or ms; default to − 24 h'),
            to: queryString('ISO-8601 or ms; default now'),
            group: queryString('fleet (default), rig, model or rack'),
          },
        },
        response: {
          200: obj({
            from_ms: int(''),
            to_ms: int(''),
            timezone: str('Site IANA zone days are cut in.'),
            group: str(''),
            rounding: str('The rounding rule of every integer figure.'),
            complete: bool('false when any input is missing; the reasons are in `incomplete`.'),
            incomplete: {
              type: 'array',
              items: obj({ kind: str('market, power_gap, polls, no_tariff, truncated') }),
            },
            market_sources: { type: 'array', items: { type: 'string' } },
            totals: figures,
            groups: { type: 'array', items: figures },
            days: {
              type: 'array',
              items: obj({ date: str('Local date.'), hours: num('23, 24 or 25'), complete: bool('') }),
            },
            notes: { type: 'array', items: { type: 'string' } },
          }),
          400: errorReply,
          501: errorReply,
          502: errorReply,
          503: errorReply,
        },
      },
    },
    async (request) => {
      const e = econ();
      const q = parseOrThrow(query, request.query);
      const t = now();
      const to = q.to ?? t;
      const from = q.from ?? to - 86_400_000;
      if (from >= to) throw invalidInput(q.from === undefined ? 'to' : 'from', 'must be before to');
      if (to - from > MAX_RANGE_MS) throw invalidInput('from', 'range longer than 400 days');
      // A standalone API reads the period's rollups from InfluxDB first; the report itself is synchronous.
      const rollups = 'load' in e.rollups ? await e.rollups.load(from, to) : e.rollups;
      return economicsReport({
        rollups,
        market: e.market.store,
        settings: e.settings,
        meta: e.meta,
        fromMs: from,
        toMs: to,
        group: (q.group ?? 'fleet') as Group,
        nowMs: t,
      });
    },
  );

  app.get(
    '/economics/live',
    {
      schema: {
        summary:
          'Revenue and cost per day now: current measured hashrate and draw, latest market, tariff now',
        response: {
          200: obj({
            at_ms: int(''),
            complete: bool(''),
            missing: { type: 'array', items: { type: 'string' } },
            market: obj({}),
            hashprice: obj({
              hashvalue_sats_per_th_day: num(''),
              hashprice_usd_per_ph_day_micro: money('Gross network hashprice per PH/s-day'),
              net_hashprice_usd_per_ph_day_micro: money('After the pool fee'),
            }),
            fleet: obj({
              revenue_usd_per_day_micro: money('Gross expected revenue per day'),
              net_revenue_usd_per_day_micro: money('After the pool fee'),
              cost_usd_per_day_micro: obj({ energy: int(''), cash: int(''), all_in: int('') }),
              profit_usd_per_day_micro: money('Gross revenue − cash cost'),
            }),
            rigs: {
              type: 'array',
              items: obj({
                rig_id: str(''),
                revenue_usd_per_day_micro: int(''),
                break_even_usd_per_kwh_micro: int(''),
              }),
            },
          }),
          501: errorReply,
          503: errorReply,
        },
      },
    },
    async () => {
      const e = econ();
      return liveEconomics(deps.fleet, e.market.store, e.settings, now());
    },
  );
};

type MetricFn = (
  name: string,
  type: 'gauge' | 'counter',
  help: string,
  samples: Array<[Record<string, string>, number | null]>,
) => void;

/** Economics gauges for `/metrics`: live revenue and cost per day, hashprice, and market provider health. */
export function economicsMetrics(deps: ApiDeps, metric: MetricFn): void {
  const e = deps.economics!;
  // Fleet totals only: the per-rig figures were most of a /metrics scrape at 10,000 rigs.
  const live = liveEconomics(deps.fleet, e.market.store, e.settings, deps.now?.() ?? Date.now(), {
    rigs: false,
  });
  const usd = (micro: number | null) => (micro === null ? null : micro / 1e6);
  metric(
    'rigtel_revenue_usd_per_day',
    'gauge',
    'Expected revenue per day at current hashrate and market (gross, before pool fee).',
    [[{}, usd(live.fleet.revenue_usd_per_day_micro)]],
  );
  metric('rigtel_cost_usd_per_day', 'gauge', 'Cash cost per day at current draw and tariff.', [
    [{}, usd(live.fleet.cost_usd_per_day_micro.cash)],
  ]);
  metric(
    'rigtel_hashprice_usd_per_ph_day',
    'gauge',
    'Network (gross) hashprice from the latest recorded market.',
    [[{}, usd(live.hashprice.hashprice_usd_per_ph_day_micro)]],
  );
  metric(
    'rigtel_break_even_usd_per_kwh',
    'gauge',
    'Electricity price at which net revenue equals energy cost.',
    [[{}, usd(live.fleet.break_even_usd_per_kwh_micro)]],
  );
  const providers = e.market.statuses();
  metric(
    'rigtel_market_provider_up',
    'gauge',
    '1 while the market provider answers, 0 while it fails (starting providers are left out).',
    providers
      .filter((p) => p.state !== 'starting')
      .map((p) => [{ provider: p.name }, p.state === 'ok' ? 1 : 0]),
  );
  metric(
    'rigtel_market_provider_last_ok_seconds',
    'gauge',
    'Unix time of the provider’s last good answer.',
    providers.map((p) => [{ provider: p.name }, p.last_ok_ms === null ? null : p.last_ok_ms / 1000]),
  );
}
