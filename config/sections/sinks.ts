import { accessSync, constants, statSync } from 'node:fs';
import { z } from 'zod';
import { urlHostCheck } from '../address.js';
import { secretField } from '../secret-field.js';

/** Why a file that must exist cannot be used, or null. */
function unreadableFile(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? 'error'})`;
  }
}

const HTTP_URL = /^https?:\/\/[^\s/]+(\/[^\s]*)?$/;
const MQTT_URL = /^mqtts?:\/\/[^\s/]+\/?$/;

/** A topic prefix / HA discovery prefix: MQTT levels without wildcards, no leading or trailing slash. */
const TOPIC_PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** InfluxQL duration literal (`90d`, `2w`, `1h30m`) or INF. */
const DURATION = /^((\d+(ns|u|µ|ms|s|m|h|d|w))+|INF)$/;

/** Tags written on the `rig` measurement beyond the identity tags site and rig (always written). */
export const INFLUX_OPTIONAL_TAGS = ['make', 'model', 'firmware', 'family', 'power_source', 'state'] as const;

export const influxSinkSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Write samples to InfluxDB.'),
    url: z
      .string()
      .regex(HTTP_URL, 'expected http(s)://host:port')
      .superRefine(urlHostCheck(HTTP_URL))
      .default('http://127.0.0.1:8086')
      .describe(
        'InfluxDB HTTP endpoint. 1.x native, or the v1-compatible API of 2.x (port 8086) and 3.x (port 8181).',
      ),
    database: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only')
      .default('rigtel')
      .describe(
        'Database (1.x), or the database name mapped to a bucket by a DBRP mapping (2.x), or 3.x database.',
      ),
    retention_policy: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only')
      .optional()
      .describe('Retention policy to write into. Unset: the database default.'),
    retention_duration: z
      .string()
      .regex(DURATION, 'expected an InfluxQL duration such as 90d, 2w or INF')
      .default('90d')
      .describe('Duration of retention_policy when rigtel creates it (1.x with create_database only).'),
    create_database: z
      .boolean()
      .default(true)
      .describe(
        'On start, CREATE DATABASE (and the retention policy) if missing. 1.x only: turn off for 2.x/3.x, where the bucket/DBRP or database is created out of band.',
      ),
    precision: z
      .enum(['s', 'ms'])
      .default('ms')
      .describe(
        'Timestamp precision written. s saves space; two polls of one rig within a second would then merge.',
      ),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(5000)
      .describe('Most lines per HTTP write; larger batches are split.'),
    flush_interval_ms: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(1000)
      .describe(
        'Least time between two small writes: samples arriving meanwhile wait in the journal and go in the next, larger batch. A batch of at least batch_size/2 lines (a backlog) is written at once.',
      ),
    timeout_ms: z.number().int().min(100).default(10_000).describe('HTTP request timeout.'),
    username: z
      .string()
      .min(1)
      .optional()
      .describe('User for InfluxDB auth (1.x user, or 2.x v1-auth user).'),
    password: secretField('Password for username.').optional(),
    token: secretField(
      'API token for 2.x/3.x v1-compatible endpoints, sent as `Authorization: Token …`. Use instead of username/password.',
    ).optional(),
    measurement_prefix: z
      .string()
      .max(32)
      .regex(/^[A-Za-z0-9_]*$/, 'letters, digits and _ only')
      .default('')
      .describe(
        'Prefix for every measurement name (rigtel_ gives rigtel_rig, rigtel_board…), to share a database with other writers.',
      ),
    tags: z
      .array(z.enum(INFLUX_OPTIONAL_TAGS))
      .default([...INFLUX_OPTIONAL_TAGS])
      .describe(
        'Which optional tags the rig measurement carries (site and rig are always written). Drop firmware to cut series churn on firmware upgrades.',
      ),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.token && (cfg.username || cfg.password)) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'use either token or username/password, not both',
      });
    }
    if (cfg.password && !cfg.username) {
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: 'password is set but username is missing',
      });
    }
  });

export const mqttSinkSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Publish live state, availability and alerts over MQTT.'),
    url: z
      .string()
      .regex(MQTT_URL, 'expected mqtt://host:port or mqtts://host:port')
      .superRefine(urlHostCheck(MQTT_URL))
      .default('mqtt://127.0.0.1:1883')
      .describe('Broker address; mqtts:// for TLS.'),
    client_id: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('MQTT client id; must be unique on the broker. Default rigtel-<site>-<hostname>-<random>.'),
    username: z.string().min(1).optional().describe('Broker user.'),
    password: secretField('Broker password.').optional(),
    tls: z
      .object({
        ca: z.string().optional().describe('Path to a PEM CA bundle that signed the broker certificate.'),
        cert: z.string().optional().describe('Path to a PEM client certificate (mutual TLS).'),
        key: z.string().optional().describe('Path to the PEM private key of cert.'),
        reject_unauthorized: z
          .boolean()
          .default(true)
          .describe(
            'Refuse a broker certificate that does not verify. Turn off only on a closed test bench.',
          ),
      })
      .strict()
      .default({ reject_unauthorized: true })
      .describe('TLS settings for mqtts://.'),
    qos: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .default(1)
      .describe(
        'QoS of state and alert messages. With 1 or 2 a batch counts as delivered only once the broker acked it.',
      ),
    topic_prefix: z
      .string()
      .regex(TOPIC_PREFIX, 'MQTT topic levels without + or #, no leading or trailing /')
      .default('rigtel')
      .describe('First topic levels: <prefix>/<site>/<rig>/state.'),
    retain_availability: z
      .boolean()
      .default(true)
      .describe(
        'Publish rig and collector online/offline retained, so a late subscriber sees the current state.',
      ),
    keepalive_s: z.number().int().min(5).max(3600).default(30).describe('MQTT keepalive.'),
    connect_timeout_ms: z.number().int().min(100).default(10_000).describe('Broker connect timeout.'),
    home_assistant: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe('Publish Home Assistant MQTT discovery configs (retained).'),
        prefix: z
          .string()
          .regex(TOPIC_PREFIX, 'MQTT topic levels without + or #')
          .default('homeassistant')
          .describe('Home Assistant discovery prefix.'),
      })
      .strict()
      .default({ enabled: false, prefix: 'homeassistant' })
      .describe('Home Assistant MQTT discovery: rigs appear as devices with sensors, no manual setup.'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.password && !cfg.username) {
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: 'password is set but username is missing',
      });
    }
    if ((cfg.tls.cert && !cfg.tls.key) || (cfg.tls.key && !cfg.tls.cert)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'cert and key go together' });
    }
    // TLS settings on a plaintext URL would be silently ignored and the data sent in clear: refuse.
    const tlsAsked =
      cfg.tls.ca !== undefined ||
      cfg.tls.cert !== undefined ||
      cfg.tls.key !== undefined ||
      cfg.tls.reject_unauthorized === false;
    if (tlsAsked && /^mqtt:\/\//i.test(cfg.url)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: 'TLS settings on a plaintext mqtt:// URL would be ignored: use mqtts:// or drop tls',
      });
    }
    for (const key of ['ca', 'cert', 'key'] as const) {
      const path = cfg.tls[key];
      if (path === undefined) continue;
      const why = unreadableFile(path);
      if (why) ctx.addIssue({ code: 'custom', path: ['tls', key], message: why });
    }
  });

export const sinkRetrySchema = z
  .object({
    min_ms: z
      .number()
      .int()
      .min(10)
      .max(600_000)
      .default(500)
      .describe(
        'First retry delay of a failing sink; each further attempt doubles it (with jitter: half to all of it).',
      ),
    max_ms: z
      .number()
      .int()
      .min(10)
      .max(3_600_000)
      .default(60_000)
      .describe('Longest delay between two attempts of a failing sink.'),
    probe_ms: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(1000)
      .describe(
        'While a sink backs off, check this often whether its service answers again (InfluxDB /ping, a TCP connect to the broker) and retry at once when it does; 0 turns the check off.',
      ),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.max_ms < r.min_ms)
      ctx.addIssue({ code: 'custom', path: ['max_ms'], message: 'must be at least min_ms' });
  });

/** Sinks besides the embedded store. */
export const sinksSection = z
  .object({
    retry: sinkRetrySchema
      .default({ min_ms: 500, max_ms: 60_000, probe_ms: 1000 })
      .describe('Retry curve of every sink (embedded store, InfluxDB, MQTT) while it fails.'),
    influx: influxSinkSchema.optional().describe('InfluxDB sink (v1 HTTP API). Absent: not used.'),
    mqtt: mqttSinkSchema.optional().describe('MQTT sink. Absent: not used.'),
  })
  .strict()
  .default({ retry: { min_ms: 500, max_ms: 60_000, probe_ms: 1000 } })
  .describe('Where samples go besides the embedded store: InfluxDB, MQTT.');

export type InfluxSinkConfig = z.output<typeof influxSinkSchema>;
export type MqttSinkConfig = z.output<typeof mqttSinkSchema>;
