/**
 * Sample → InfluxDB points. Pure: no I/O, so the schema is tested without a server and documented in one place
 * (collector/sinks/README.md mirrors FIELD_TYPES).
 *
 * Rules (InfluxDB 1.x docs, "Schema design and data layout"): tags are identity and low-cardinality grouping only (never IPs, worker names or free
 * text); a missing reading is an omitted field, never 0, never NaN; the point time is the collector's `at_ms`, so
 * replaying a journal entry rewrites the same point (same measurement + tags + time) instead of adding one.
 */
import type { Sample } from '../../protocols/sample.js';
import type { RigNames } from '../rig-names.js';

export type FieldType = 'integer' | 'float' | 'boolean' | 'string';
export type Precision = 's' | 'ms';

export interface InfluxPoint {
  measurement: Measurement;
  tags: Record<string, string>;
  fields: Record<string, number | boolean | string>;
  /** Timestamp in `precision` units. */
  time: number;
}

/**
 * Every field each measurement can carry and its type. Types never change once written: InfluxDB fixes a field's
 * type per shard and rejects a conflicting write (InfluxDB 1.x docs, "Write data": "field type conflict").
 */
export const FIELD_TYPES = {
  rig: {
    hashrate_hs: 'float',
    hashrate_avg_hs: 'float',
    hashrate_nominal_hs: 'float',
    temp_board_max_c: 'float',
    temp_chip_max_c: 'float',
    temp_inlet_c: 'float',
    temp_outlet_c: 'float',
    power_w: 'float',
    power_miner_w: 'float',
    energy_wh: 'float',
    uptime_s: 'integer',
    shares_accepted: 'integer',
    shares_rejected: 'integer',
    shares_stale: 'integer',
    hw_errors: 'integer',
    difficulty_accepted: 'float',
    board_count: 'integer',
    fan_count: 'integer',
    support: 'string',
  },
  board: {
    hashrate_hs: 'float',
    hashrate_nominal_hs: 'float',
    temp_board_c: 'float',
    temp_chip_c: 'float',
    temp_inlet_c: 'float',
    temp_outlet_c: 'float',
    chips: 'integer',
    chips_expected: 'integer',
    hw_errors: 'integer',
    frequency_mhz: 'float',
    power_w: 'float',
  },
  fan: { speed_rpm: 'integer' },
  pool: {
    port: 'integer',
    status: 'string',
    active: 'boolean',
    accepted: 'integer',
    rejected: 'integer',
    stale: 'integer',
  },
  poll: { up: 'integer', duration_ms: 'integer' },
} as const satisfies Record<string, Record<string, FieldType>>;

export type Measurement = keyof typeof FIELD_TYPES;

/**
 * Where a rig is and what it is called, on every measurement when configured: `name` (config rig name), `row`,
 * `rack` (config location). Low cardinality: one value per rig, as `rig` itself.
 */
const PLACE_TAGS = ['name', 'row', 'rack'] as const;

/** Tag keys per measurement (site and rig always; the rig measurement's optional ones follow the whitelist). */
export const TAG_KEYS: Record<Measurement, readonly string[]> = {
  rig: ['site', 'rig', ...PLACE_TAGS, 'make', 'model', 'firmware', 'family', 'power_source', 'state'],
  board: ['site', 'rig', ...PLACE_TAGS, 'board'],
  fan: ['site', 'rig', ...PLACE_TAGS, 'fan'],
  pool: ['site', 'rig', ...PLACE_TAGS, 'pool', 'host'],
  poll: ['site', 'rig', ...PLACE_TAGS, 'error_code'],
};

export type OptionalRigTag = 'make' | 'model' | 'firmware' | 'family' | 'power_source' | 'state';
const ALL_OPTIONAL: readonly OptionalRigTag[] = [
  'make',
  'model',
  'firmware',
  'family',
  'power_source',
  'state',
];

export interface SchemaOptions {
  precision: Precision;
  /** Optional rig tags to write; default all. */
  tags?: readonly OptionalRigTag[];
  /** Configured name and location by polled address (tags `name`, `row`, `rack`; `site` from the location). */
  names?: (address: string) => RigNames;
}

/**
 * A tag value InfluxDB accepts: no newline (breaks the line), no trailing backslash (1.6.7 answers 400 "invalid tag
 * format", InfluxDB 1.x line protocol reference), not empty (an empty tag is no tag), bounded length. Commas, spaces and `=` are escaped by the
 * writer, so they may stay.
 */
export function cleanTag(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = String(value)
    .replace(/[\r\n\t]+/g, ' ')
    .trim()
    .slice(0, 200)
    .replace(/\\+$/, '')
    .trim();
  return v.length ? v : null;
}

/** `stratum+tcp://user@btc.pool.example:3333/x` → host `btc.pool.example`, port 3333. Never the worker user. */
export function poolHost(url: string | null): { host: string | null; port: number | null } {
  if (!url) return { host: null, port: null };
  const m = /^(?:[a-z0-9+.-]+:\/\/)?(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#\s]+)(?::(\d{1,5}))?/i.exec(url.trim());
  if (!m) return { host: null, port: null };
  return { host: cleanTag(m[1]!.toLowerCase()), port: m[2] ? Number(m[2]) : null };
}

/** A poll error code as a tag: only well-formed RT_ERR codes (a bounded set), anything else folded into one value. */
export function errorCodeTag(code: string | null): string | null {
  if (!code) return null;
  return /^RT_ERR_[A-Z0-9_]{1,60}$/.test(code) ? code : 'RT_ERR_OTHER';
}

function typed(type: FieldType, value: unknown): number | boolean | string | null {
  switch (type) {
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case 'integer':
      // node-influx floors INTEGER fields (its FieldType.INTEGER serialiser), so round here; keep within int64 safely.
      return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER
        ? Math.round(value)
        : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'string':
      return typeof value === 'string' && value.length ? value.slice(0, 1024) : null;
  }
}

function point(
  measurement: Measurement,
  tags: Record<string, string | null>,
  values: Record<string, unknown>,
  time: number,
): InfluxPoint | null {
  const types = FIELD_TYPES[measurement] as Record<string, FieldType>;
  const fields: InfluxPoint['fields'] = {};
  let n = 0;
  for (const [key, type] of Object.entries(types)) {
    const v = typed(type, values[key]);
    if (v !== null) {
      fields[key] = v;
      n++;
    }
  }
  if (n === 0) return null; // a point needs at least one field
  const cleanTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    const c = cleanTag(v);
    if (c !== null) cleanTags[k] = c;
  }
  return { measurement, tags: cleanTags, fields, time };
}

export function sampleTime(sample: Sample, precision: Precision): number {
  return precision === 's' ? Math.floor(sample.at_ms / 1000) : Math.round(sample.at_ms);
}

/**
 * All points for one sample. A failed poll gives only a `poll` point (up=0): an offline rig has no current values,
 * and writing zeros would fake a reading.
 */
export function samplePoints(sample: Sample, options: SchemaOptions): InfluxPoint[] {
  // Without its own time a point would get the server's clock, and a replay would then duplicate it.
  if (!Number.isFinite(sample.at_ms) || sample.at_ms <= 0) throw new TypeError('sample has no valid at_ms');
  if (typeof sample.rig_id !== 'string' || typeof sample.site !== 'string' || !sample.poll) {
    throw new TypeError('sample lacks rig_id, site or poll');
  }
  const time = sampleTime(sample, options.precision);
  const place = options.names?.(sample.address);
  const base = {
    site: place?.location?.site ?? sample.site,
    rig: sample.rig_id,
    name: place?.name ?? null,
    row: place?.location?.row ?? null,
    rack: place?.location?.rack ?? null,
  };
  const out: InfluxPoint[] = [];
  const up = sample.poll.ok && sample.state !== 'offline';
  const pollPoint = point(
    'poll',
    { ...base, error_code: errorCodeTag(sample.poll.error_code) },
    { up: up ? 1 : 0, duration_ms: sample.poll.duration_ms },
    time,
  );
  if (pollPoint) out.push(pollPoint);
  if (!up) return out;

  const wanted = new Set(options.tags ?? ALL_OPTIONAL);
  const optional: Record<OptionalRigTag, string | null> = {
    make: sample.identity.make,
    model: sample.identity.model,
    firmware: sample.identity.firmware,
    family: sample.identity.family,
    power_source: sample.power_source,
    state: sample.state,
  };
  const rigTags: Record<string, string | null> = { ...base };
  for (const key of ALL_OPTIONAL) if (wanted.has(key)) rigTags[key] = optional[key];
  const rig = point(
    'rig',
    rigTags,
    {
      ...sample,
      board_count: sample.boards.length || null,
      fan_count: sample.fans.length || null,
    },
    time,
  );
  if (rig) out.push(rig);
  for (const b of sample.boards) {
    const p = point('board', { ...base, board: String(b.index) }, { ...b }, time);
    if (p) out.push(p);
  }
  for (const f of sample.fans) {
    const p = point('fan', { ...base, fan: String(f.index) }, { speed_rpm: f.rpm }, time);
    if (p) out.push(p);
  }
  for (const pool of sample.pools) {
    const { host, port } = poolHost(pool.url);
    const p = point(
      'pool',
      { ...base, pool: String(pool.index), host },
      {
        port,
        status: pool.status,
        active: pool.active,
        accepted: pool.accepted,
        rejected: pool.rejected,
        stale: pool.stale,
      },
      time,
    );
    if (p) out.push(p);
  }
  return out;
}
