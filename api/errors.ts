import { defineError } from '../lib/errors.js';
import type { Role } from './tokens.js';

/** HTTP API failures. Each carries its HTTP status; the app renders them as `{ error: { code, message, field? } }`. */
export const ApiErrors = {
  badRequest: defineError<[string, string]>(
    'RT_ERR_API_BAD_REQUEST',
    'a query parameter or path segment is malformed; the reply names the field',
    (field, why) => `${field}: ${why}`,
    400,
  ),
  rigNotFound: defineError<[string]>(
    'RT_ERR_API_RIG_NOT_FOUND',
    'no rig with that id, name or address is configured or in history',
    (id) => `no rig with id, name or address '${id}'`,
    404,
  ),
  routeNotFound: defineError<[string, string]>(
    'RT_ERR_API_ROUTE_NOT_FOUND',
    'no such API endpoint (see the README for the list)',
    (method, url) => `no endpoint ${method} ${url}; see GET /v1/status and the README for the list`,
    404,
  ),
  historyUnavailable: defineError(
    'RT_ERR_API_HISTORY_UNAVAILABLE',
    'a standalone `rigtel api` reads history from InfluxDB, and sinks.influx is not configured (or not enabled)',
    () =>
      'history is not served by this standalone API: it reads history from InfluxDB, so configure sinks.influx (the InfluxDB the collectors write to)',
    501,
  ),
  hostNotAllowed: defineError<[string]>(
    'RT_ERR_API_HOST_NOT_ALLOWED',
    'the request named a Host the API does not answer for (DNS-rebinding guard); add it to api.allowed_hosts',
    (host) => `Host '${host}' is not one this API answers for; add it to api.allowed_hosts if it is yours`,
    421,
  ),
  methodNotAllowed: defineError<[string, string, string]>(
    'RT_ERR_API_METHOD_NOT_ALLOWED',
    'the endpoint exists but not for this HTTP method; the Allow header lists those it takes',
    (method, url, allow) => `${method} is not allowed on ${url}; use ${allow}`,
    405,
  ),
  pollUnavailable: defineError(
    'RT_ERR_API_POLL_UNAVAILABLE',
    'this API is not served by a collector that can poll rigs on demand',
    () => 'poll now is not available: this API is not served by a running collector',
    503,
  ),
  internal: defineError(
    'RT_ERR_API_INTERNAL',
    'the API failed while answering; the collector log has the cause',
    () => 'internal error while answering; the collector log has the cause',
    500,
  ),

  unauthorized: defineError(
    'RT_ERR_API_UNAUTHORIZED',
    'the API needs a valid token (Authorization: Bearer rt_…); it is missing, unknown or revoked',
    () => 'a valid API token is required (Authorization: Bearer rt_…)',
    401,
  ),
  forbidden: defineError<[Role, string]>(
    'RT_ERR_API_FORBIDDEN',
    "the token's role may not use this endpoint (engineer: no money routes; lender: only its own loan)",
    (role, path) => `role ${role} may not use ${path}`,
    403,
  ),
  notLoopback: defineError(
    'RT_ERR_API_NOT_LOOPBACK',
    'no API token is configured, so the API answers loopback clients only',
    () =>
      'no API token is configured: the API answers loopback clients only (create one with rigtel token create)',
    403,
  ),
  listenWithoutTokens: defineError<[string]>(
    'RT_ERR_API_LISTEN_WITHOUT_TOKENS',
    'api.listen is not a loopback address and no API token exists: create one (rigtel token create --role admin) first',
    (addr) =>
      `refusing to listen on ${addr} without API tokens: anyone on that network could read the fleet and loans; create one with 'rigtel token create --role admin' or listen on 127.0.0.1`,
  ),
} as const;
