/**
 * Route schemas (JSON Schema) for the OpenAPI document at `/docs/openapi.json`. Query and path parameters are
 * still parsed by the zod schemas in each route (one error shape, `RT_ERR_API_BAD_REQUEST` naming the field);
 * their JSON Schema here is generated from the same zod schemas, so the document cannot drift from the checks.
 * Replies are serialized with JSON.stringify, so a reply field missing from a schema is never silently dropped.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

const num = { type: ['number', 'null'] } as const;
const str = { type: ['string', 'null'] } as const;

/** The query schema of a route, as OpenAPI sees it (input side: every value is text). */
export function querySchema(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  delete json.$schema;
  return json;
}

export const errorBody: Json = {
  type: 'object',
  description: 'Every error: a stable RT_ERR_… code, a message, and the bad field where there is one.',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

export const idParamsSchema: Json = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Rig id (MAC, any case), configured name, or host[:port].' },
  },
  required: ['id'],
};

const location: Json = {
  type: ['object', 'null'],
  properties: { site: { type: 'string' }, row: { type: 'string' }, rack: { type: 'string' }, slot: num },
};

export const rigSummary: Json = {
  type: 'object',
  properties: {
    rig_id: { type: 'string' },
    name: str,
    address: { type: 'string' },
    state: { type: 'string', enum: ['mining', 'ramping', 'sleeping', 'curtailed', 'offline', 'error'] },
    family: str,
    model: str,
    hashrate_hs: num,
    hashrate_ths: num,
    hashrate_nominal_hs: num,
    power_w: num,
    power_source: { type: ['string', 'null'], enum: ['pdu', 'miner', 'estimate', null] },
    power_miner_w: num,
    temp_chip_max_c: num,
    temp_board_max_c: num,
    last_seen_ms: num,
    last_error: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    state_reason: str,
    location,
    consecutive_failures: { type: 'integer' },
    next_poll_ms: num,
  },
  required: ['rig_id', 'name', 'address', 'state'],
};

export const rigDetail: Json = {
  ...rigSummary,
  properties: {
    ...(rigSummary.properties as Json),
    make: str,
    firmware: str,
    serial: str,
    mac: str,
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    last_poll_ms: num,
    current: {
      type: ['object', 'null'],
      description: 'The full normalized sample (protocols/sample.ts); null while the rig is offline.',
      additionalProperties: true,
    },
  },
};

export const rigList: Json = {
  type: 'object',
  properties: {
    total: { type: 'integer' },
    matched: { type: 'integer' },
    returned: { type: 'integer' },
    rigs: { type: 'array', items: rigSummary },
  },
  required: ['total', 'matched', 'returned', 'rigs'],
};

const byState: Json = {
  type: 'object',
  properties: Object.fromEntries(
    ['mining', 'ramping', 'sleeping', 'curtailed', 'offline', 'error'].map((s) => [s, { type: 'integer' }]),
  ),
};

export const fleetBody: Json = {
  type: 'object',
  additionalProperties: true,
  properties: {
    site: { type: 'string' },
    at_ms: { type: 'number' },
    rigs: { type: 'integer' },
    states: byState,
    hashrate_hs: num,
    hashrate_ths: num,
    power_w: num,
    power_kw: num,
    power_sources: { type: 'object', additionalProperties: { type: 'integer' } },
    power_w_by_source: { type: 'object', additionalProperties: { type: 'number' } },
    power_source_weakest: str,
    efficiency_jth: num,
    efficiency_rigs: { type: 'integer' },
  },
};

export const historyBody: Json = {
  type: 'object',
  properties: {
    rig_id: { type: 'string' },
    from_ms: { type: 'number' },
    to_ms: { type: 'number' },
    step_s: { type: 'number' },
    summary: { type: 'object', additionalProperties: true },
    points: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          t_ms: { type: 'number' },
          hashrate_hs: num,
          power_w: num,
          power_source: str,
          temp_chip_max_c: num,
          energy_wh: num,
          polls: { type: 'integer' },
          polls_ok: { type: 'integer' },
          mining_s: { type: 'number' },
        },
      },
    },
  },
};

export const alertBody: Json = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    severity: { type: 'string', enum: ['warning', 'critical'] },
    site: { type: 'string' },
    rig_id: { type: 'string' },
    name: str,
    location,
    message: { type: 'string' },
    since_ms: { type: 'number' },
    raised_ms: { type: 'number' },
    value: num,
    threshold: num,
  },
};

export const alertsList: Json = {
  type: 'object',
  properties: {
    available: { type: 'boolean' },
    count: { type: 'integer' },
    alerts: { type: 'array', items: alertBody },
  },
};

export const looseObject = (description: string): Json => ({
  type: 'object',
  description,
  additionalProperties: true,
});

export const text = (description: string): Json => ({ type: 'string', description });

/** A route's schema: tags for grouping, a summary, and the replies with the shared error body. */
export function routeSchema(
  tag: string,
  summary: string,
  parts: { querystring?: Json; params?: Json; ok: Json; okStatus?: number; errors?: number[] },
): Json {
  const response: Json = { [parts.okStatus ?? 200]: parts.ok };
  for (const status of parts.errors ?? [400]) response[status] = errorBody;
  return {
    tags: [tag],
    summary,
    ...(parts.querystring ? { querystring: parts.querystring } : {}),
    ...(parts.params ? { params: parts.params } : {}),
    response,
  };
}
