import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { historySource } from '../../collector/views.js';
import type { ApiDeps } from '../deps.js';
import { ApiErrors } from '../errors.js';
import { round } from '../fleet-summary.js';
import { parseOrThrow, stepParam, timeParam } from '../query.js';
import { findRig, indexRigs } from '../rig-view.js';
import { historyBody, idParamsSchema, querySchema, routeSchema } from '../schemas.js';
import { snapshotsFor } from '../snapshot.js';
import { idParams } from './rigs.js';

export const MIN_STEP_S = 60;
export const MAX_BUCKETS = 10_000;
const DEFAULT_RANGE_MS = 24 * 3600_000;
/** Without `step`, aim for about this many buckets (a day at 5 min). */
const DEFAULT_BUCKETS = 288;

const historyQuery = z
  .object({ from: timeParam.optional(), to: timeParam.optional(), step: stepParam.optional() })
  .strict();

const roundOrNull = (v: number | null, digits: number) => (v === null ? null : round(v, digits));

function bad(field: string, why: string) {
  return ApiErrors.badRequest.with({ details: { field } }, field, why);
}

/** Absurd ranges are refused with 400 rather than computed: a step over a year, a `to` past tomorrow. */
const MAX_STEP_S = 366 * 86_400;
const MAX_FUTURE_MS = 86_400_000;
const EARLIEST_MS = Date.UTC(2009, 0, 3);

/**
 * `GET /v1/rigs/:id/history?from&to&step`: buckets from the store (or InfluxDB in a standalone `rigtel api`),
 * nulls where nothing was polled.
 */
export const historyRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const snapshots = snapshotsFor(deps.fleet, deps.config, () => deps.now?.() ?? Date.now());
  const index = () => snapshots.memo('rigs:index', (snap) => indexRigs(snap.rigs));
  const source = historySource(deps.history);
  app.get(
    '/rigs/:id/history',
    {
      schema: routeSchema('rigs', 'History buckets of one rig from the store', {
        params: idParamsSchema,
        querystring: querySchema(historyQuery),
        ok: historyBody,
        errors: [400, 404, 501, 502, 503],
      }),
    },
    async (request) => {
      const { id } = parseOrThrow(idParams, request.params);
      const q = parseOrThrow(historyQuery, request.query);
      // Without from/to: the last 24 h, with bucket edges on round times (multiples of the step since the epoch).
      const now = deps.now?.() ?? Date.now();
      const range0 = (q.to ?? now) - (q.from ?? (q.to ?? now) - DEFAULT_RANGE_MS);
      const stepS =
        q.step ?? Math.max(MIN_STEP_S, Math.ceil(range0 / 1000 / DEFAULT_BUCKETS / MIN_STEP_S) * MIN_STEP_S);
      const stepMs = stepS * 1000;
      const toMs = q.to ?? (q.from === undefined ? Math.ceil(now / stepMs) * stepMs : now);
      const fromMs = q.from ?? toMs - DEFAULT_RANGE_MS;
      if (fromMs >= toMs) throw bad(q.from === undefined ? 'to' : 'from', 'must be before to');
      if (stepS < MIN_STEP_S) throw bad('step', `must be at least 1m (${MIN_STEP_S} s)`);
      if (stepS > MAX_STEP_S) throw bad('step', `must be at most 366d (${MAX_STEP_S} s)`);
      const range = toMs - fromMs;
      const buckets = Math.ceil(range / 1000 / stepS);
      if (buckets > MAX_BUCKETS) {
        throw bad(
          'step',
          `${buckets} buckets requested, at most ${MAX_BUCKETS}: use a larger step or a shorter range`,
        );
      }
      if (toMs > now + MAX_FUTURE_MS) throw bad('to', 'is more than a day in the future');
      if (fromMs < EARLIEST_MS) throw bad('from', 'is before 2009-01-03, the first bitcoin block');

      // A rig no longer configured still has history under its id.
      const rig = findRig(deps.fleet, id, index);
      const rigId = rig?.rig_id ?? ((await source.hasRig(id)) ? id : undefined);
      if (rigId === undefined) throw ApiErrors.rigNotFound(id.slice(0, 100));

      const points = await source.history({ rigId, fromMs, toMs, stepS });
      let polls = 0;
      let pollsOk = 0;
      let miningS = 0;
      let energy: number | null = null;
      for (const p of points) {
        polls += p.polls;
        pollsOk += p.polls_ok;
        miningS += p.mining_s;
        if (p.energy_wh !== null) energy = (energy ?? 0) + p.energy_wh;
      }
      return {
        rig_id: rigId,
        from_ms: fromMs,
        to_ms: toMs,
        step_s: stepS,
        summary: { polls, polls_ok: pollsOk, mining_s: round(miningS, 3), energy_wh: roundOrNull(energy, 3) },
        // Each figure to its unit's precision: whole H/s, 0.1 W, 0.1 °C, 0.001 Wh and s.
        points: points.map((p) => ({
          ...p,
          hashrate_hs: roundOrNull(p.hashrate_hs, 0),
          power_w: roundOrNull(p.power_w, 1),
          temp_chip_max_c: roundOrNull(p.temp_chip_max_c, 1),
          energy_wh: roundOrNull(p.energy_wh, 3),
          mining_s: round(p.mining_s, 3),
        })),
      };
    },
  );
};
