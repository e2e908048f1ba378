import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { looseObject, routeSchema } from '../schemas.js';

/**
 * `GET /v1/power/devices`: the SNMP devices (PDUs, UPSs, sensors, switches) and how their last poll went, with
 * the named error a site engineer can act on (wrong community, v3 credentials, unknown OID, unreachable).
 */
export const powerDevicesRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get(
    '/power/devices',
    {
      schema: routeSchema('power', 'SNMP devices (PDUs, UPSs, sensors) and their last poll', {
        ok: looseObject('configured, ok, failing, devices'),
        errors: [],
      }),
    },
    async () => {
      const devices = deps.powerDevices?.() ?? [];
      return {
        configured: devices.length,
        ok: devices.filter((d) => d.state === 'ok').length,
        failing: devices.filter((d) => d.state === 'error').length,
        devices,
      };
    },
  );
};
