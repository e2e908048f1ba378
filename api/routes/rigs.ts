import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { FAMILIES, RIG_STATES } from '../../protocols/sample.js';
import type { ApiDeps } from '../deps.js';
import { ApiErrors } from '../errors.js';
import { choiceParam, intParam, parseOrThrow, ratioParam } from '../query.js';
import { RigBodies } from '../rig-body.js';
import { findRig, indexRigs, type RigSummary, summarizeRig } from '../rig-view.js';
import { idParamsSchema, querySchema, rigDetail, rigList, rigSummary, routeSchema } from '../schemas.js';
import { notModified, render, snapshotsFor } from '../snapshot.js';

const FAMILY_FILTER = [...FAMILIES, 'auto'] as const;
const DEFAULT_LIMIT = 1000;

const listQuery = z
  .object({
    state: choiceParam(RIG_STATES).optional(),
    family: choiceParam(FAMILY_FILTER).optional(),
    sort: choiceParam(['temp', 'hashrate', 'name', 'share', 'age'] as const).optional(),
    below: ratioParam.optional().describe('Only rigs hashing below this share of their nameplate.'),
    limit: intParam(1, 100_000).optional().describe(`Rigs per page (default ${DEFAULT_LIMIT}).`),
    offset: intParam(0, 10_000_000).optional().describe('Rigs to skip (with the same filters and sort).'),
  })
  .strict();

export const idParams = z.object({ id: z.string().min(1, 'expected a rig id, name or address').max(256) });

const NULL_LAST = Number.NEGATIVE_INFINITY;
const shareOf = (r: RigSummary) =>
  r.hashrate_nominal_hs && r.hashrate_nominal_hs > 0 && r.last_error === null && r.state !== 'offline'
    ? (r.hashrate_hs ?? 0) / r.hashrate_nominal_hs
    : null;
const sorters: Record<
  'temp' | 'hashrate' | 'name' | 'share' | 'age',
  (a: RigSummary, b: RigSummary) => number
> = {
  temp: (a, b) =>
    (b.temp_chip_max_c ?? b.temp_board_max_c ?? NULL_LAST) -
    (a.temp_chip_max_c ?? a.temp_board_max_c ?? NULL_LAST),
  hashrate: (a, b) => (b.hashrate_hs ?? NULL_LAST) - (a.hashrate_hs ?? NULL_LAST),
  name: (a, b) => (a.name ?? a.rig_id).localeCompare(b.name ?? b.rig_id),
  share: (a, b) => (shareOf(a) ?? Number.POSITIVE_INFINITY) - (shareOf(b) ?? Number.POSITIVE_INFINITY),
  /** Stalest first; never answered first of all. */
  age: (a, b) => (b.age_s ?? Number.POSITIVE_INFINITY) - (a.age_s ?? Number.POSITIVE_INFINITY),
};

/**
 * `GET /v1/rigs` (filters state, family, below; sort; pages of `limit` from `offset`, `next` links the next
 * page) and `GET /v1/rigs/:id` (id, name or address). Lists come from the shared fleet snapshot
 * (api/snapshot.ts): filtering and sorting happen once per snapshot and query, and replies carry an ETag.
 */
export const rigsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const now = () => deps.now?.() ?? Date.now();
  const snapshots = snapshotsFor(deps.fleet, deps.config, now);
  const index = () => snapshots.memo('rigs:index', (snap) => indexRigs(snap.rigs));
  // Kept bodies in a 5 MiB ring (~2,000 bodies of 2.6 KB) and at most 4,096 rigs' statuses: room for the rigs a
  // dashboard keeps looking at. One per configured rig held ~60 MB at 10,000 rigs once a client had read them
  // all; a body that is not kept is built again (api/rig-body.ts).
  const bodies = new RigBodies(deps.config);
  app.get(
    '/rigs',
    {
      schema: routeSchema('rigs', 'Rigs with their live summary, a page at a time', {
        querystring: querySchema(listQuery),
        ok: rigList,
      }),
    },
    async (request, reply) => {
      const q = parseOrThrow(listQuery, request.query);
      const sort = q.sort ?? 'name';
      const key = `rigs:${q.state ?? ''}:${q.family ?? ''}:${q.below ?? ''}:${sort}`;
      const { total, list } = snapshots.memo(key, (snap) => {
        let rigs = snap.summaries;
        if (q.state) rigs = rigs.filter((r) => r.state === q.state);
        if (q.family) rigs = rigs.filter((r) => (r.family ?? 'unknown') === q.family);
        if (q.below !== undefined)
          rigs = rigs.filter((r) => (shareOf(r) ?? Number.POSITIVE_INFINITY) < q.below!);
        // Infinity - Infinity is NaN: fall back to the id so equal and missing values keep a stable order.
        const by = sorters[sort];
        rigs = [...rigs].sort((a, b) => by(a, b) || (a.rig_id < b.rig_id ? -1 : a.rig_id > b.rig_id ? 1 : 0));
        return { total: snap.summaries.length, list: rigs };
      });
      const limit = q.limit ?? DEFAULT_LIMIT;
      const offset = q.offset ?? 0;
      const page = list.slice(offset, offset + limit);
      let next: string | null = null;
      if (offset + page.length < list.length) {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries({ ...q, limit, offset: offset + page.length }))
          if (v !== undefined) params.set(k, String(v));
        next = `/v1/rigs?${params.toString()}`;
      }
      const rendered = snapshots.memo(`${key}:${offset}:${limit}`, () =>
        render({ total, matched: list.length, returned: page.length, offset, next, rigs: page }),
      );
      reply.header('etag', rendered.etag).header('cache-control', 'no-cache');
      if (notModified(request.headers['if-none-match'], rendered.etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(rendered.body);
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
    async (request, reply) => {
      // zod only when the cheap check fails: it words the 400.
      const raw = (request.params as { id?: unknown }).id;
      const id =
        typeof raw === 'string' && raw.length >= 1 && raw.length <= 256
          ? raw
          : parseOrThrow(idParams, request.params).id;
      const rig = findRig(deps.fleet, id, index);
      if (!rig) throw ApiErrors.rigNotFound(id.slice(0, 100));
      const rendered = bodies.body(rig, now());
      reply.header('etag', rendered.etag).header('cache-control', 'no-cache');
      if (notModified(request.headers['if-none-match'], rendered.etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(rendered.body);
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
      const rig = findRig(deps.fleet, id, index);
      if (!rig) throw ApiErrors.rigNotFound(id.slice(0, 100));
      if (!deps.pollNow) throw ApiErrors.pollUnavailable();
      await deps.pollNow(rig.address);
      const after = deps.fleet.get(rig.address) ?? rig;
      reply.code(200);
      return summarizeRig(deps.config, after, now());
    },
  );
};
