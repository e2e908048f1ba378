import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';
import { summarizeFleet } from '../fleet-summary.js';
import { intParam, parseOrThrow, ratioParam } from '../query.js';
import { fleetBody, querySchema, routeSchema } from '../schemas.js';
import { notModified, type Rendered, render, snapshotsFor } from '../snapshot.js';

const fleetQuery = z
  .object({
    below: ratioParam.optional().describe('List rigs hashing below this share of nameplate (default 0.9).'),
    hottest: intParam(0, 100).optional().describe('How many hottest rigs to list (default 5).'),
    below_limit: intParam(0, 1000)
      .optional()
      .describe(
        'How many rigs below nameplate to list, lowest share first (default 20); `count` has them all.',
      ),
  })
  .strict();

/**
 * `GET /v1/fleet`: totals with counts by state, hashrate, power by source and efficiency over known power.
 * Computed once per fleet snapshot (api/snapshot.ts) and served with an ETag (`If-None-Match` → 304). The
 * below-nameplate list is capped; `below_nameplate.more` links to the full list in `/v1/rigs`.
 */
export const fleetRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const now = () => deps.now?.() ?? Date.now();
  const snapshots = snapshotsFor(deps.fleet, deps.config, now);
  app.get(
    '/fleet',
    {
      schema: routeSchema('fleet', 'Fleet totals: counts by state, hashrate, power by source, efficiency', {
        querystring: querySchema(fleetQuery),
        ok: fleetBody,
      }),
    },
    async (request, reply) => {
      // Without a query string (what dashboards ask) there is nothing to parse, nor a key to build.
      const bare = request.url.indexOf('?') === -1;
      const q = bare ? {} : parseOrThrow(fleetQuery, request.query);
      const below = q.below ?? 0.9;
      const hottest = q.hottest ?? 5;
      const belowLimit = q.below_limit ?? 20;
      const key = bare ? 'fleet:default' : `fleet:${below}:${hottest}:${belowLimit}`;
      const rendered = snapshots.memo<Rendered>(key, (snap) => {
        const summary = summarizeFleet(snap.rigs, { belowShare: below, hottest, belowLimit });
        return render({
          site: deps.config.site.name,
          at_ms: snap.built_ms,
          ...summary,
          below_nameplate: {
            ...summary.below_nameplate,
            more:
              summary.below_nameplate.count > summary.below_nameplate.rigs.length
                ? `/v1/rigs?below=${below}&sort=share`
                : null,
          },
        });
      });
      reply.header('etag', rendered.etag).header('cache-control', 'no-cache');
      if (notModified(request.headers['if-none-match'], rendered.etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(rendered.body);
    },
  );
};
