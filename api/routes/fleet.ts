import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';
import { summarizeFleet } from '../fleet-summary.js';
import { intParam, parseOrThrow, ratioParam } from '../query.js';
import { fleetBody, querySchema, routeSchema } from '../schemas.js';

const fleetQuery = z
  .object({
    below: ratioParam.optional().describe('List rigs hashing below this share of nameplate (default 0.9).'),
    hottest: intParam(0, 100).optional().describe('How many hottest rigs to list (default 5).'),
  })
  .strict();

/** `GET /v1/fleet`: totals with counts by state, hashrate, power by source and efficiency over known power. */
export const fleetRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get(
    '/fleet',
    {
      schema: routeSchema('fleet', 'Fleet totals: counts by state, hashrate, power by source, efficiency', {
        querystring: querySchema(fleetQuery),
        ok: fleetBody,
      }),
    },
    async (request) => {
      const q = parseOrThrow(fleetQuery, request.query);
      return {
        site: deps.config.site.name,
        at_ms: deps.now?.() ?? Date.now(),
        ...summarizeFleet(deps.fleet.list(), { belowShare: q.below ?? 0.9, hottest: q.hottest ?? 5 }),
      };
    },
  );
};
