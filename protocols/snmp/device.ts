/**
 * One poll of one SNMP device: walk the profile's columns and decode the rows into channels (outlets, inlets,
 * phases, sensors, switch ports) with values in base units. Decoding is pure and tested on its own.
 */
import type { ColumnData, SnmpClient, SnmpValue } from './client.js';
import { normalizeOid } from './client.js';
import { SnmpErrors } from './errors.js';
import {
  type ChannelKind,
  ENTITY_SENSOR,
  GENERIC_UNITS,
  type Measure,
  type Profile,
  RARITAN,
  type TableSpec,
} from './profiles.js';

export type ChannelValues = {
  power_w: number | null;
  energy_wh: number | null;
  current_a: number | null;
  voltage_v: number | null;
  temp_c: number | null;
  humidity_pct: number | null;
  link_up: boolean | null;
  on: boolean | null;
};

export interface Channel {
  kind: ChannelKind;
  /** Canonical id used in mappings (APC "1.7" = unit 1 outlet 7; else the row index). */
  id: string;
  /** Other ids accepted in mappings (APC outlet number alone on unit 1, ifDescr, Sentry "AA1"). */
  aliases: string[];
  /** Name configured on the device (APC outlet name, ifName), if any. */
  name: string | null;
  values: ChannelValues;
  /** Energy counter modulus in Wh when the counter wraps (Counter32/Unsigned32), else null. */
  energy_wrap_wh: number | null;
}

export interface DeviceReading {
  channels: Channel[];
  /** Agent sysUpTime in seconds, null when it does not serve it. Going down means the agent restarted. */
  uptime_s: number | null;
  /** Optional tables the device does not have (for status, not an error). */
  absent: string[];
}

export function emptyValues(): ChannelValues {
  return {
    power_w: null,
    energy_wh: null,
    current_a: null,
    voltage_v: null,
    temp_c: null,
    humidity_pct: null,
    link_up: null,
    on: null,
  };
}

/** Floating-point noise from ×0.1 scaling (3.3000000000000003) is rounded away. */
function clean(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function numeric(v: SnmpValue | undefined): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  // Some agents send numbers as DisplayStrings; accept plain decimals only.
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return null;
}

function text(v: SnmpValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
}

function setMeasure(values: ChannelValues, measure: Measure, v: number | boolean | null): void {
  (values as Record<Measure, number | boolean | null>)[measure] = v;
}

/** Decode one column-style table. Exported for tests. */
export function decodeTable(table: TableSpec, data: ColumnData): Channel[] {
  const col = (oid: string) => data.get(normalizeOid(oid)) ?? new Map<string, SnmpValue>();
  const indexes = new Set<string>();
  for (const c of table.columns) for (const idx of col(c.oid).keys()) indexes.add(idx);
  const channels: Channel[] = [];
  for (const index of indexes) {
    const values = emptyValues();
    let wrap: number | null = null;
    for (const c of table.columns) {
      const raw = numeric(col(c.oid).get(index));
      if (raw === null) continue;
      if (c.states) {
        setMeasure(
          values,
          c.measure,
          c.states.true.includes(raw) ? true : c.states.false.includes(raw) ? false : null,
        );
        continue;
      }
      if (c.invalid_below !== undefined && raw < c.invalid_below) continue;
      setMeasure(values, c.measure, clean(raw * c.scale));
      if (c.measure === 'energy_wh' && c.wrap) wrap = c.wrap * c.scale;
    }
    let id = index;
    const aliases: string[] = [];
    if (table.id_oids?.length) {
      const parts = table.id_oids.map((o) => numeric(col(o).get(index)));
      if (parts.every((p) => p !== null)) {
        id = parts.join('.');
        // APC: outlet 7 on the first (or only) unit may be mapped as plain "7".
        if (parts.length === 2 && parts[0] === 1) aliases.push(String(parts[1]));
        aliases.push(`row:${index}`);
      }
    }
    for (const o of table.alias_oids ?? []) {
      const a = text(col(o).get(index));
      if (a) aliases.push(a);
    }
    const name = table.name_oid ? text(col(table.name_oid).get(index)) : null;
    channels.push({ kind: table.kind, id, aliases, name, values, energy_wrap_wh: wrap });
  }
  return channels.sort((a, b) => compareIds(a.id, b.id));
}

function compareIds(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return x.length - y.length || a.localeCompare(b);
}

/** Raritan PDU2: value rows pdu.outlet.sensorType; scale 10^-digits from the matching sensor row. */
export function decodeRaritan(data: ColumnData, kind: 'outlet' | 'inlet'): Channel[] {
  const valueCol = data.get(kind === 'outlet' ? RARITAN.outletValue : RARITAN.inletValue) ?? new Map();
  const digitsCol =
    data.get(kind === 'outlet' ? RARITAN.outletDecimalDigits : RARITAN.inletDecimalDigits) ?? new Map();
  const names =
    kind === 'outlet' ? (data.get(RARITAN.outletName) ?? new Map()) : new Map<string, SnmpValue>();
  const labels =
    kind === 'outlet' ? (data.get(RARITAN.outletLabel) ?? new Map()) : new Map<string, SnmpValue>();
  const byRow = new Map<string, Channel>();
  for (const [index, v] of valueCol) {
    const parts = index.split('.');
    if (parts.length !== 3) continue;
    const measure = RARITAN.sensorTypes[Number(parts[2])];
    const raw = numeric(v);
    if (!measure || raw === null) continue;
    const row = `${parts[0]}.${parts[1]}`;
    let ch = byRow.get(row);
    if (!ch) {
      const label = text(labels.get(row));
      ch = {
        kind,
        id: row,
        aliases: parts[0] === '1' ? [parts[1]!, ...(label ? [label] : [])] : label ? [label] : [],
        name: text(names.get(row)),
        values: emptyValues(),
        energy_wrap_wh: null,
      };
      byRow.set(row, ch);
    }
    const digits = numeric(digitsCol.get(index)) ?? 0;
    const factor = 10 ** -digits;
    setMeasure(ch.values, measure, clean(raw * factor));
    if (measure === 'energy_wh') ch.energy_wrap_wh = RARITAN.wrap * factor;
  }
  return [...byRow.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** ENTITY-SENSOR-MIB: value × 10^(3·(scale−9)) ÷ 10^precision, only when operStatus is ok(1). */
export function decodeEntitySensors(data: ColumnData): Channel[] {
  const get = (oid: string) => data.get(oid) ?? new Map<string, SnmpValue>();
  const channels: Channel[] = [];
  for (const [index, v] of get(ENTITY_SENSOR.value)) {
    const measure = ENTITY_SENSOR.types[numeric(get(ENTITY_SENSOR.type).get(index)) ?? -1];
    const raw = numeric(v);
    if (!measure || raw === null) continue;
    const status = numeric(get(ENTITY_SENSOR.operStatus).get(index));
    const scale = numeric(get(ENTITY_SENSOR.scale).get(index)) ?? 9;
    const precision = numeric(get(ENTITY_SENSOR.precision).get(index)) ?? 0;
    const values = emptyValues();
    if (status === null || status === 1) {
      setMeasure(values, measure, clean((raw * 10 ** (3 * (scale - 9))) / 10 ** precision));
    }
    channels.push({
      kind: 'sensor',
      id: index,
      aliases: [],
      name: text(get(ENTITY_SENSOR.name).get(index)),
      values,
      energy_wrap_wh: null,
    });
  }
  return channels.sort((a, b) => compareIds(a.id, b.id));
}

const GENERIC_MEASURE: Record<string, Measure> = {
  power: 'power_w',
  energy: 'energy_wh',
  current: 'current_a',
  voltage: 'voltage_v',
  temperature: 'temp_c',
  humidity: 'humidity_pct',
  link: 'link_up',
  state: 'on',
};

/**
 * One generic table as the config's `snmp.profiles.*.tables[]` describes it (after defaults are applied). Defined
 * here so protocols/ does not import config/; the config schema's output type is assignable to it.
 */
export interface GenericTableConfig {
  kind: ChannelKind;
  name_oid?: string | undefined;
  columns: Array<{
    oid: string;
    measures: string;
    unit: string;
    scale: number;
    type: 'integer' | 'gauge' | 'counter32' | 'counter64' | 'unsigned32';
    invalid_below?: number | undefined;
    true_values: number[];
    false_values: number[];
  }>;
}

/** Turn config-defined generic tables into a profile. */
export function genericProfile(name: string, tables: GenericTableConfig[]): Profile {
  return {
    name,
    description: 'defined in config',
    tables: tables.map((t, i) => ({
      kind: t.kind,
      label: `generic table ${i}`,
      ...(t.name_oid ? { name_oid: normalizeOid(t.name_oid) } : {}),
      columns: t.columns.map((c) => {
        const measure = GENERIC_MEASURE[c.measures]!;
        const unit = GENERIC_UNITS[c.unit]!;
        const wrap =
          c.type === 'counter32' || c.type === 'unsigned32' ? 2 ** 32 : c.type === 'counter64' ? 2 ** 64 : 0;
        return {
          oid: normalizeOid(c.oid),
          measure,
          scale: c.scale * unit.factor,
          ...(c.invalid_below !== undefined ? { invalid_below: c.invalid_below } : {}),
          ...(measure === 'link_up' || measure === 'on'
            ? { states: { true: c.true_values, false: c.false_values } }
            : {}),
          ...(wrap ? { wrap } : {}),
        };
      }),
    })),
  };
}

/** SNMPv2-MIB sysUpTime.0 (TimeTicks, hundredths of a second). */
export const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';

/** Every column OID one poll of this profile walks. */
export function profileColumns(profile: Profile): string[][] {
  if (profile.special === 'raritan-pdu2') {
    return [
      [RARITAN.outletValue, RARITAN.outletDecimalDigits, RARITAN.outletName, RARITAN.outletLabel],
      [RARITAN.inletValue, RARITAN.inletDecimalDigits],
    ];
  }
  if (profile.special === 'entity-sensor') {
    return [
      [
        ENTITY_SENSOR.type,
        ENTITY_SENSOR.scale,
        ENTITY_SENSOR.precision,
        ENTITY_SENSOR.value,
        ENTITY_SENSOR.operStatus,
        ENTITY_SENSOR.name,
      ],
    ];
  }
  return profile.tables.map((t) => [
    ...t.columns.map((c) => c.oid),
    ...(t.name_oid ? [t.name_oid] : []),
    ...(t.id_oids ?? []),
    ...(t.alias_oids ?? []),
  ]);
}

/**
 * Poll a device with its profile. A required table with no rows at all means the device does not implement
 * it: RT_ERR_SNMP_NO_SUCH_OBJECT naming the table and OID (usually the wrong profile).
 */
export async function pollDevice(
  client: SnmpClient,
  profile: Profile,
  signal?: AbortSignal,
): Promise<DeviceReading> {
  const groups = profileColumns(profile);
  const absent: string[] = [];
  // sysUpTime first: a cheap probe that fails fast on a dead agent, and tells an agent restart from a wrap.
  const [up] = await client.get([SYS_UPTIME], signal);
  const uptime_s = typeof up?.value === 'number' ? up.value / 100 : null;
  if (profile.special === 'raritan-pdu2') {
    const outlets = await client.walkColumns(groups[0]!, signal);
    const inlets = await client.walkColumns(groups[1]!, signal);
    const channels = [...decodeRaritan(outlets, 'outlet'), ...decodeRaritan(inlets, 'inlet')];
    if (channels.length === 0)
      throw SnmpErrors.noSuchObject(client.label, `${RARITAN.outletValue} (PDU2-MIB)`);
    return { channels, absent, uptime_s };
  }
  if (profile.special === 'entity-sensor') {
    const data = await client.walkColumns(groups[0]!, signal);
    const channels = decodeEntitySensors(data);
    if (channels.length === 0)
      throw SnmpErrors.noSuchObject(client.label, `${ENTITY_SENSOR.value} (ENTITY-SENSOR-MIB)`);
    return { channels, absent, uptime_s };
  }
  const channels: Channel[] = [];
  for (const [i, table] of profile.tables.entries()) {
    const data = await client.walkColumns(groups[i]!, signal);
    const rows = decodeTable(table, data);
    const hasData = table.columns.some((c) => (data.get(normalizeOid(c.oid))?.size ?? 0) > 0);
    if (!hasData) {
      if (table.optional) {
        absent.push(table.label);
        continue;
      }
      throw SnmpErrors.noSuchObject(client.label, `${table.columns[0]!.oid} (${table.label})`);
    }
    channels.push(...rows);
  }
  return { channels, absent, uptime_s };
}
