import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { judgeHealth } from '../health.js';
import { looseObject, routeSchema } from '../schemas.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** `GET /v1/status`: the collector itself — rigs, last sweep, sinks with lag and last error, journal pressure. */
export const statusRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get(
    '/status',
    {
      schema: routeSchema('collector', 'The collector: version, rigs, last sweep, sinks, journal', {
        ok: looseObject('version, site, status, problems, polls, sinks, journal, endpoints'),
        errors: [],
      }),
    },
    async () => {
      const health = judgeHealth(deps);
      return {
        version: VERSION,
        site: deps.config.site.name,
        status: health.status,
        problems: health.problems,
        started_ms: deps.health.started_ms,
        uptime_s: Math.max(0, Math.round((health.now_ms - deps.health.started_ms) / 1000)),
        rigs: health.polling.rigs,
        up: health.polling.up,
        last_sweep_ms: health.polling.last_sweep_ms,
        last_sweep_duration_ms: health.polling.last_sweep_duration_ms,
        poll_interval_ms: health.polling.interval_ms,
        // Poll slots due, started, late and skipped by reason since start; null when this process does not poll.
        polls: deps.health.polling().polls ?? null,
        sinks: health.sinks,
        // null when the collector does not expose journal figures.
        journal: deps.health.journal?.() ?? null,
        endpoints: [
          '/healthz',
          '/v1/status',
          '/v1/fleet',
          '/v1/rigs',
          '/v1/rigs/:id',
          '/v1/rigs/:id/history',
          '/v1/alerts',
          '/v1/power/devices',
          '/v1/market',
          '/v1/market/history',
          '/v1/market/hashprice',
          '/v1/economics',
          '/v1/economics/live',
          '/metrics',
          '/v1/events',
          '/v1/alerts/rules',
          '/docs',
          '/docs/openapi.json',
        ],
      };
    },
  );
};
