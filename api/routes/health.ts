import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { judgeHealth } from '../health.js';
import { looseObject, routeSchema } from '../schemas.js';

/** `GET /healthz`: 200 while serving and polling, 503 when degraded (see api/health.ts for the rule). */
export const healthRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get(
    '/healthz',
    {
      schema: routeSchema('collector', 'Liveness: 200 while serving and polling, 503 when degraded', {
        ok: looseObject('status, problems, polling, sinks'),
        errors: [],
      }),
    },
    async (_request, reply) => {
      const health = judgeHealth(deps);
      reply.code(health.status === 'ok' ? 200 : 503);
      return health;
    },
  );
};
