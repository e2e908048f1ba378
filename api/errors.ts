import { defineError } from '../lib/errors.js';

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
} as const;
