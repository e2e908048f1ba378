import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { FAMILIES, RIG_STATES } from '../../protocols/sample.js';
import type { ApiDeps } from '../deps.js';
import { ApiErrors } from '../errors.js';
import { choiceParam, intParam, parseOrThrow } from '../query.js';
import { configuredRig, findRig, type RigSummary, summarizeRig } from '../rig-view.js';
import { idParamsSchema, querySchema, rigDetail, rigList, rigSummary, routeSchema } from '../schemas.js';

const FAMILY_FILTER = [...FAMILIES, 'auto'] as const;

const listQuery = z
  .object({
    state: choiceParam(RIG_STATES).optional(),
    family: choiceParam(FAMILY_FILTER).optional(),
    sort: choiceParam(['temp', 'hashrate', 'name'] as const).optional(),
    limit: intParam(1, 100_000).optional(),
  })
  .strict();

export const idParams = z.object({ id: z.string().min(1, 'expected a rig id, name or address').max(256) });

const NULL_LAST = Number.NEGATIVE_INFINITY;
const sorters: Record<'temp' | 'hashrate' | 'name', (a: RigSummary, b: RigSummary) => number> = {
  temp: (a, b) =>
    (b.temp_chip_max_c ?? b.temp_board_max_c ?? NULL_LAST) -
    (a.temp_chip_max_c ?? a.temp_board_max_c ?? NULL_LAST),
  hashrate: (a, b) => (b.hashrate_hs ?? NULL_LAST) - (a.hashrate_hs ?? NULL_LAST),
  name: (a, b) => (a.name ?? a.rig_id).localeCompare(b.name ?? b.rig_id),
};

/** `GET /v1/rigs` (filters state, family, sort, limit) and `GET /v1/rigs/:id` (id, name or address). */
export const rigsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get(
    '/rigs',
    {
      schema: routeSchema('rigs', 'Rigs with their live summary', {
        querystring: querySchema(listQuery),
        ok: rigList,
      }),
    },
    async (request) => {
      const q = parseOrThrow(listQuery, request.query);
      let rigs = deps.fleet.list().map((rig) => summarizeRig(deps.config, rig));
      const total = rigs.length;
      if (q.state) rigs = rigs.filter((r) => r.state === q.state);
      if (q.family) rigs = rigs.filter((r) => (r.family ?? 'unknown') === q.family);
      // Infinity - Infinity is NaN: fall back to the id so equal and missing values keep a stable order.
      const by = sorters[q.sort ?? 'name'];
      rigs.sort((a, b) => by(a, b) || a.rig_id.localeCompare(b.rig_id));
      const matched = rigs.length;
      if (q.limit !== undefined) rigs = rigs.slice(0, q.limit);
      return { total, matched, returned: rigs.length, rigs };
    },
  );

  app.get(
    '/rigs/:id',
    {
      schema: routeSchema('rigs', 'One rig: summary, identity, tags and the full latest sample', {
        params: idParamsSchema,
        ok: rigDetail,
        errors: [400, 404],
      }),
    },
    async (request) => {
      const { id } = parseOrThrow(idParams, request.params);
      const rig = findRig(deps.fleet, id);
      if (!rig) throw ApiErrors.rigNotFound(id.slice(0, 100));
      const configured = configuredRig(deps.config, rig);
      return {
        ...summarizeRig(deps.config, rig),
        make: rig.current?.identity.make ?? null,
        firmware: rig.current?.identity.firmware ?? null,
        serial: rig.current?.identity.serial ?? null,
        mac: rig.current?.identity.mac ?? null,
        tags: configured?.tags ?? {},
        last_poll_ms: rig.last_poll_ms,
        // The full normalized sample; Sample holds no credentials (protocols/sample.ts).
        current: rig.current,
      };
    },
  );

  /** `POST /v1/rigs/:id/poll`: poll one rig now, outside its schedule; replies with its summary after the poll. */
  app.post(
    '/rigs/:id/poll',
    {
      schema: routeSchema('rigs', 'Poll one rig now, outside its schedule', {
        params: idParamsSchema,
        ok: rigSummary,
        errors: [400, 404, 503],
      }),
    },
    async (request, reply) => {
      const { id } = parseOrThrow(idParams, request.params);
      const rig = findRig(deps.fleet, id);
      if (!rig) throw ApiErrors.rigNotFound(id.slice(0, 100));
      if (!deps.pollNow) throw ApiErrors.pollUnavailable();
      await deps.pollNow(rig.address);
      const after = deps.fleet.get(rig.address) ?? rig;
      reply.code(200);
      return summarizeRig(deps.config, after);
    },
  );
};
