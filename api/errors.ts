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
  hostNotAllowed: defineError<[string]>(
    'RT_ERR_API_HOST_NOT_ALLOWED',
    'the request named a Host the API does not answer for (DNS-rebinding guard); add it to api.allowed_hosts',
    (host) => `Host '${host}' is not one this API answers for; add it to api.allowed_hosts if it is yours`,
    421,
  ),
  internal: defineError(
    'RT_ERR_API_INTERNAL',
    'the API failed while answering; the collector log has the cause',
    () => 'internal error while answering; the collector log has the cause',
    500,
  ),
} as const;
