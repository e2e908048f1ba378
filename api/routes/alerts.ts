import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';
import { choiceParam, parseOrThrow } from '../query.js';
import { alertsList, looseObject, querySchema, routeSchema } from '../schemas.js';

const alertsQuery = z
  .object({
    rig: z.string().min(1).max(256).optional().describe('Only this rig (id, name or address).'),
    severity: choiceParam(['warning', 'critical'] as const).optional(),
  })
  .strict();

/**
 * `GET /v1/alerts`: the alerts active now (offline, hashrate below nameplate, hot, fan failed, board missing),
 * oldest first. `available: false` when this process runs no alert engine.
 */
export const alertsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get(
    '/alerts',
    {
      schema: routeSchema('alerts', 'Alerts active now, oldest first', {
        querystring: querySchema(alertsQuery),
        ok: alertsList,
      }),
    },
    async (request) => {
      const q = parseOrThrow(alertsQuery, request.query);
      if (!deps.alerts) return { available: false, alerts: [] };
      let alerts = deps.alerts();
      if (q.rig) {
        const rig = deps.fleet.get(q.rig);
        const id = rig?.rig_id ?? q.rig;
        alerts = alerts.filter((a) => a.rig_id === id);
      }
      if (q.severity) alerts = alerts.filter((a) => a.severity === q.severity);
      return { available: true, count: alerts.length, alerts };
    },
  );

  /** `GET /v1/alerts/rules`: the alert thresholds in force (config `alerts`), so views flag what alerts flag. */
  app.get(
    '/alerts/rules',
    {
      schema: routeSchema('alerts', 'Alert thresholds in force (config alerts)', {
        ok: looseObject('Config alerts: hashrate_low, temperature, fan_failed…'),
      }),
    },
    async () => {
      const a = deps.config.alerts;
      return {
        enabled: a.enabled,
        min_duration_s: a.min_duration_s,
        clear_duration_s: a.clear_duration_s,
        hashrate_low: a.hashrate_low,
        temperature: a.temperature,
        fan_failed: a.fan_failed,
      };
    },
  );
};
