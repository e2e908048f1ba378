/**
 * Read queries against the InfluxDB the collectors write to (`sinks.influx`), for a standalone `rigtel api`:
 * the client, measurement names, and failures as named errors that name the host only, never credentials.
 * Queries go as POST with Basic auth (nothing in a URL), with no retries and the sink's `timeout_ms`.
 */
import { InfluxDB } from 'influx';
import type { InfluxSinkConfig } from '../config/sections/sinks.js';
import { type Logger, silentLogger } from '../lib/log.js';
import type { PowerSource } from '../protocols/sample.js';
import { HistoryBackendErrors } from './errors.js';
import { influxClientOptions, noBackoff } from './sinks/influx.js';
import type { Measurement } from './sinks/influx-schema.js';

export type Row = (string | number | boolean | null)[];
export interface Series {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: Row[];
}
interface RawResults {
  results?: { statement_id?: number; series?: Series[]; error?: string }[];
  error?: string;
}

/** An InfluxQL identifier, double-quoted (config already limits these to letters, digits, `.`, `_`, `-`). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A time literal from a finite number of ms (never text from a request). */
export function ms(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError('time must be finite');
  return `${Math.trunc(value)}ms`;
}

export class InfluxReader {
  readonly #cfg: InfluxSinkConfig;
  readonly #db: InfluxDB;
  readonly #log: Logger;
  /** Where InfluxDB is, for messages: host and port only (a URL may carry user:password@). */
  readonly #where: string;

  constructor(cfg: InfluxSinkConfig, log: Logger = silentLogger) {
    this.#cfg = cfg;
    this.#log = log;
    this.#where = new URL(cfg.url).host;
    this.#db = new InfluxDB({
      ...influxClientOptions(cfg),
      // No retries and no host backoff: a failed query answers its request at once; the next one tries again.
      pool: { maxRetries: 0, requestTimeout: cfg.timeout_ms, backoff: noBackoff },
    });
  }

  get config(): InfluxSinkConfig {
    return this.#cfg;
  }

  /** A measurement as written by the sink: prefixed, in the sink's retention policy. */
  from(m: Measurement): string {
    const name = quoteIdent(`${this.#cfg.measurement_prefix}${m}`);
    return this.#cfg.retention_policy ? `${quoteIdent(this.#cfg.retention_policy)}.${name}` : name;
  }

  /** Runs the statements in one request (POST, so nothing lands in a URL); one series list per statement. */
  async query(statements: string[], params: Record<string, string>): Promise<Series[][]> {
    let body: RawResults;
    try {
      body = (await this.#db.queryRaw(statements.join('; '), {
        database: this.#cfg.database,
        precision: 'ms',
        placeholders: params,
        method: 'POST',
      })) as RawResults;
    } catch (err) {
      throw this.#failed(err);
    }
    const results = body.results ?? [];
    const bad = body.error ?? results.find((r) => r.error)?.error;
    if (bad !== undefined) {
      const why = /database not found/i.test(bad)
        ? `database "${this.#cfg.database}" not found`
        : `query error: ${bad.slice(0, 200)}`;
      const e = HistoryBackendErrors.refused(this.#where, why);
      this.#log.warn({ code: e.code, err: e.message }, 'history query refused');
      throw e;
    }
    return statements.map((_, i) => results[i]?.series ?? []);
  }

  /** A transport or HTTP failure as a named error, from its status or socket code only (never its text). */
  #failed(err: unknown) {
    const e = err as { res?: { statusCode?: number }; code?: unknown; message?: unknown };
    const status = e.res?.statusCode;
    let out: ReturnType<typeof HistoryBackendErrors.down>;
    if (status !== undefined && status >= 400 && status < 500) {
      out = HistoryBackendErrors.refused(
        this.#where,
        status === 401 || status === 403 ? `HTTP ${status}: credentials refused` : `HTTP ${status}`,
      );
    } else {
      const code = typeof e.code === 'string' && /^[A-Z0-9_]{2,40}$/.test(e.code) ? e.code : null;
      const why =
        status !== undefined
          ? `HTTP ${status}`
          : (code ??
            (e.message === 'Request timed out' ? `timed out after ${this.#cfg.timeout_ms} ms` : 'no answer'));
      out = HistoryBackendErrors.down(this.#where, why);
    }
    this.#log.warn({ code: out.code, err: out.message }, 'history query failed');
    return out;
  }
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function source(v: unknown): PowerSource | null {
  return v === 'pdu' || v === 'miner' || v === 'estimate' ? v : null;
}

/** A series list as rows keyed by column (a column repeated by InfluxDB is suffixed `_1`, `_2`…). */
export function rowsOf(series: Series[] | undefined): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const s of series ?? []) {
    for (const values of s.values ?? []) {
      const row: Record<string, unknown> = {};
      s.columns.forEach((c, i) => {
        row[c] = values[i];
      });
      out.push(row);
    }
  }
  return out;
}
