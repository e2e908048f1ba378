/**
 * InfluxDB sink over the v1 HTTP API (node-influx): InfluxDB 1.x natively, 2.x and 3.x through their
 * v1-compatible `/write` (see collector/sinks/README.md for what works there).
 *
 * Durability is the journal's job: write() resolves once InfluxDB answered 204 for every line it can ever accept,
 * and throws a retryable RT_ERR_SINK_INFLUX_UNAVAILABLE otherwise. Lines InfluxDB refuses for good (field type
 * conflict, unparsable) are found by splitting the batch, logged as RT_ERR_SINK_INFLUX_REJECTED and skipped, so one
 * bad line neither loses its neighbours nor blocks the journal forever. Replays cannot duplicate: a point's identity
 * is measurement + tags + time, and time is the sample's `at_ms`.
 */
import {
  type IClusterConfig,
  InfluxDB,
  type IPoint,
  type ISchemaOptions,
  FieldType as NodeFieldType,
} from 'influx';
import type { InfluxSinkConfig } from '../../config/sections/sinks.js';
import { errorMessage, type RtError } from '../../lib/errors.js';
import { type Logger, silentLogger } from '../../lib/log.js';
import type { RigNames } from '../rig-names.js';
import { InfluxSinkErrors } from './errors.js';
import {
  FIELD_TYPES,
  type FieldType,
  type InfluxPoint,
  type Measurement,
  type Precision,
  samplePoints,
  TAG_KEYS,
} from './influx-schema.js';
import type { JournalEntry, Sink } from './sink.js';

export { InfluxSinkErrors };

/** The sink logs through the one `Logger` type (lib/log.ts); kept as a name for existing callers. */
export type SinkLog = Logger;

const NODE_TYPE: Record<FieldType, NodeFieldType> = {
  integer: NodeFieldType.INTEGER,
  float: NodeFieldType.FLOAT,
  boolean: NodeFieldType.BOOLEAN,
  string: NodeFieldType.STRING,
};

/** node-influx schemas from FIELD_TYPES, so integers go out with the `i` suffix (without one, numbers are floats). */
function nodeSchemas(database: string, prefix: string): ISchemaOptions[] {
  return (Object.keys(FIELD_TYPES) as Measurement[]).map((measurement) => ({
    database,
    measurement: `${prefix}${measurement}`,
    tags: [...TAG_KEYS[measurement]],
    fields: Object.fromEntries(
      Object.entries(FIELD_TYPES[measurement] as Record<string, FieldType>).map(([k, t]) => [
        k,
        NODE_TYPE[t],
      ]),
    ),
  }));
}

/**
 * Never take a host out of node-influx's pool: the fan-out owns retry and backoff for writes, and a history query
 * is tried on its own.
 */
export const noBackoff = {
  getDelay: () => 0,
  next() {
    return noBackoff;
  },
  reset() {
    return noBackoff;
  },
};

/**
 * Host, credentials and database for a node-influx client (the sink and the API's history reader). node-influx
 * sends username/password as HTTP Basic auth, never in the URL.
 */
export function influxClientOptions(cfg: InfluxSinkConfig): IClusterConfig {
  const url = new URL(cfg.url);
  const headers: Record<string, string> = {};
  // 2.x and 3.x v1-compat endpoints take `Authorization: Token …`; node-influx only knows Basic auth.
  if (cfg.token) headers.Authorization = `Token ${cfg.token.reveal()}`;
  return {
    hosts: [
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        protocol: url.protocol === 'https:' ? 'https' : 'http',
        path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
        options: { headers },
      },
    ],
    database: cfg.database,
    ...(cfg.username ? { username: cfg.username, password: cfg.password?.reveal() ?? '' } : {}),
  };
}

export interface InfluxSinkDeps {
  log?: SinkLog;
  name?: string;
  /** Configured rig names and locations by polled address (collector/rig-names.ts). */
  names?: (address: string) => RigNames;
}

export interface InfluxSinkStats {
  points_written: number;
  points_rejected: number;
  requests: number;
}

function toIPoint(p: InfluxPoint, prefix: string): IPoint {
  return { measurement: `${prefix}${p.measurement}`, tags: p.tags, fields: p.fields, timestamp: p.time };
}

/** A short description of a point for logs (no secrets can be in a point: tags and fields are telemetry). */
function describe(p: InfluxPoint): string {
  const tags = Object.entries(p.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${p.measurement},${tags} ${Object.keys(p.fields).join(',')} ${p.time}`;
}

interface HttpishError {
  res?: { statusCode?: number };
  code?: string;
  message?: string;
  name?: string;
}

export class InfluxSink implements Sink {
  readonly name: string;
  readonly stats: InfluxSinkStats = { points_written: 0, points_rejected: 0, requests: 0 };
  readonly #cfg: InfluxSinkConfig;
  readonly #names: ((address: string) => RigNames) | undefined;
  readonly #db: InfluxDB;
  readonly #log: SinkLog;
  readonly #precision: Precision;
  #lastWriteMs = 0;
  #databaseReady = false;
  #closed = false;
  #wake: (() => void) | null = null;

  constructor(cfg: InfluxSinkConfig, deps: InfluxSinkDeps = {}) {
    this.#cfg = cfg;
    this.#names = deps.names;
    this.name = deps.name ?? 'influx';
    this.#log = deps.log ?? silentLogger;
    this.#precision = cfg.precision;
    this.#db = new InfluxDB({
      ...influxClientOptions(cfg),
      schema: nodeSchemas(cfg.database, cfg.measurement_prefix),
      pool: { maxRetries: 0, requestTimeout: cfg.timeout_ms, backoff: noBackoff },
    });
  }

  /** The node-influx client, for queries (tests, the API's history source). */
  get client(): InfluxDB {
    return this.#db;
  }

  async open(): Promise<void> {
    this.#closed = false;
    if (this.#cfg.create_database) await this.#ensureDatabase();
  }

  async #ensureDatabase(): Promise<void> {
    const { database, retention_policy, retention_duration } = this.#cfg;
    try {
      // CREATE DATABASE is idempotent on 1.x.
      await this.#db.createDatabase(database);
    } catch (err) {
      this.#setupFailed(`create database "${database}"`, err);
      return;
    }
    if (retention_policy) {
      try {
        await this.#db.createRetentionPolicy(retention_policy, {
          database,
          duration: retention_duration,
          replication: 1,
        });
      } catch (err) {
        if (!/already exists/i.test(errorMessage(err))) {
          this.#setupFailed(`create retention policy "${retention_policy}"`, err);
          return;
        }
      }
    }
    this.#databaseReady = true;
  }

  #setupFailed(what: string, err: unknown): void {
    const mapped = this.#classify(err);
    // Down or refusing us: let the fan-out retry open(). Anything else (2.x/3.x say CREATE is unsupported): go on.
    if (mapped && (InfluxSinkErrors.unavailable.is(mapped) || InfluxSinkErrors.auth.is(mapped))) throw mapped;
    const e = InfluxSinkErrors.setup(what, errorMessage(err).slice(0, 300));
    this.#log.warn({ code: e.code, err: e.message }, e.message);
  }

  async write(batch: readonly JournalEntry[]): Promise<void> {
    const points: InfluxPoint[] = [];
    for (const entry of batch) {
      try {
        points.push(
          ...samplePoints(entry.sample, {
            precision: this.#precision,
            tags: this.#cfg.tags,
            ...(this.#names ? { names: this.#names } : {}),
          }),
        );
      } catch (err) {
        // A malformed sample in the journal (older schema, hand-edited): skip it, never loop on it.
        this.#reject(`journal seq ${entry.seq}`, `cannot map sample: ${errorMessage(err)}`);
      }
    }
    const size = this.#cfg.batch_size;
    // Small batches wait out flush_interval_ms (the next batch grows meanwhile); a big one means a backlog
    // (catch-up after an outage) and goes at once, so replay is not throttled.
    if (points.length < size / 2) await this.#waitFlushInterval();
    for (let i = 0; i < points.length; i += size) await this.#writeChunk(points.slice(i, i + size), true);
    this.#lastWriteMs = Date.now();
  }

  async #waitFlushInterval(): Promise<void> {
    const wait = this.#lastWriteMs + this.#cfg.flush_interval_ms - Date.now();
    if (wait <= 0 || this.#closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = null;
  }

  async #writeChunk(points: InfluxPoint[], mayCreate: boolean): Promise<void> {
    if (points.length === 0) return;
    try {
      this.stats.requests++;
      await this.#db.writePoints(
        points.map((p) => toIPoint(p, this.#cfg.measurement_prefix)),
        {
          precision: this.#precision,
          ...(this.#cfg.retention_policy ? { retentionPolicy: this.#cfg.retention_policy } : {}),
        },
      );
      this.stats.points_written += points.length;
      return;
    } catch (err) {
      const status = (err as HttpishError).res?.statusCode;
      const mapped = this.#classify(err);
      if (mapped && InfluxSinkErrors.noDatabase.is(mapped) && mayCreate && this.#cfg.create_database) {
        // The database was dropped under us (or never created because open() raced a start-up): make it, retry once.
        this.#databaseReady = false;
        await this.#ensureDatabase();
        return this.#writeChunk(points, false);
      }
      if (mapped) throw mapped;
      // A 400 (or a client-side schema error): some lines are bad. InfluxDB 1.x stores the good lines of a
      // "partial write" already (InfluxDB 1.x HTTP API reference, /write), but which lines were dropped is not machine-readable, so split
      // until each bad line stands alone. Rewriting good lines is harmless: same point, same values.
      if (points.length === 1) {
        this.#reject(describe(points[0]!), this.#reason(err, status));
        return;
      }
      const mid = points.length >> 1;
      await this.#writeChunk(points.slice(0, mid), mayCreate);
      await this.#writeChunk(points.slice(mid), mayCreate);
    }
  }

  #reason(err: unknown, status: number | undefined): string {
    const msg = errorMessage(err).replace(/^A \d+ [^:]*error occurred: /, '');
    return `${status ?? 'client'}: ${msg.slice(0, 300)}`;
  }

  #reject(line: string, why: string): void {
    this.stats.points_rejected++;
    const e = InfluxSinkErrors.rejected(line, why);
    this.#log.warn({ code: e.code, line, reason: why }, e.message);
  }

  /** Retryable and configuration errors as RtErrors; null for "these lines are bad" (400 / schema). */
  #classify(err: unknown): RtError | null {
    const e = err as HttpishError;
    const status = e.res?.statusCode;
    const url = this.#cfg.url;
    if (status === 401 || status === 403) return InfluxSinkErrors.auth(url, status);
    if (status === 404 && /database not found/i.test(e.message ?? '')) {
      return InfluxSinkErrors.noDatabase(url, this.#cfg.database);
    }
    if (status !== undefined && (status === 400 || status === 413 || status === 422)) return null;
    if (status !== undefined && status >= 300) {
      return InfluxSinkErrors.unavailable.with({ cause: err }, url, `HTTP ${status}`);
    }
    // node-influx's ServiceNotAvailableError (5xx, timeouts) is not exported and keeps name "Error"; it and any
    // socket error (ECONNREFUSED…) land here or below as retryable.
    if (typeof e.code === 'string') {
      return InfluxSinkErrors.unavailable.with({ cause: err }, url, e.code ?? e.message ?? 'unavailable');
    }
    if (err instanceof Error && /^(Expected|Extraneous|Unknown field)/.test(err.message)) return null;
    return InfluxSinkErrors.unavailable.with({ cause: err }, url, errorMessage(err));
  }

  get databaseReady(): boolean {
    return this.#databaseReady;
  }

  /** InfluxDB `/ping` (204 when the HTTP service answers), for the fan-out's quick check while backing off. */
  async probe(): Promise<boolean> {
    try {
      const hosts = await this.#db.ping(Math.min(1000, this.#cfg.timeout_ms));
      return hosts.some((h) => h.online);
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
  }
}

export function createInfluxSink(cfg: InfluxSinkConfig, deps: InfluxSinkDeps = {}): InfluxSink {
  return new InfluxSink(cfg, deps);
}
