/**
 * SNMP device profiles: which table columns to walk on each kind of PDU / UPS / sensor / switch, and how to turn
 * the raw integers into base units (W, Wh, A, V, °C, %). Pure data. OIDs and scaling are from the vendor MIBs as
 * listed in docs/protocols.md "SNMP" (PowerNet-MIB 4.5.8, PDU2-MIB, Sentry4-MIB, EATON-EPDU-MIB, CPS-MIB,
 * RFC 1628, RFC 3433, IF-MIB). A site with an unlisted device writes a `generic` profile in config instead.
 */

/** What a column measures, in base units: W, Wh, A, V, °C, %RH; link/on are booleans (1/0). */
export type Measure =
  | 'power_w'
  | 'energy_wh'
  | 'current_a'
  | 'voltage_v'
  | 'temp_c'
  | 'humidity_pct'
  | 'link_up'
  | 'on';

export const MEASURES: readonly Measure[] = [
  'power_w',
  'energy_wh',
  'current_a',
  'voltage_v',
  'temp_c',
  'humidity_pct',
  'link_up',
  'on',
];

/** What a row of a table is: a rig-facing outlet or switch port, or a whole-PDU / phase / sensor figure. */
export type ChannelKind = 'outlet' | 'inlet' | 'phase' | 'bank' | 'device' | 'sensor' | 'port' | 'ups';

export interface ColumnSpec {
  /** Column OID (numeric, without instance). Rows are its instances. */
  oid: string;
  measure: Measure;
  /** Raw value × scale = value in the measure's base unit (e.g. APC energy 0.1 kWh → ×100 Wh). */
  scale: number;
  /** Raw values below this mean "not available" (APC/Sentry/Eaton use −1, Sentry temp −410). */
  invalid_below?: number;
  /** For link_up / on: raw value → true/false; any other raw value is null. */
  states?: { true: number[]; false: number[] };
  /** Counter modulus in raw units (2^32 for Counter32/Unsigned32) so energy wraps can be told from resets. */
  wrap?: number;
}

export interface TableSpec {
  kind: ChannelKind;
  /** Human name of the table, for errors. */
  label: string;
  /** Column giving a user-facing name (APC outlet name, ifName). Same row index as the data columns. */
  name_oid?: string;
  /**
   * Columns whose values, joined with '.', form the channel id (APC: module.number, not the running row index,
   * which changes with daisy-chaining). Without it the row index is the id.
   */
  id_oids?: string[];
  /** Extra columns whose values are also accepted as the channel's id in mappings (ifDescr, Sentry "AA1"). */
  alias_oids?: string[];
  columns: ColumnSpec[];
  /** The table may be absent on some models; a missing required table is RT_ERR_SNMP_NO_SUCH_OBJECT. */
  optional?: boolean;
}

/** Tables whose rows must be decoded specially (measure in the index, per-row scale columns). */
export type SpecialDecoder = 'raritan-pdu2' | 'entity-sensor';

export interface Profile {
  name: string;
  description: string;
  tables: TableSpec[];
  special?: SpecialDecoder;
}

const U32 = 2 ** 32;
const APC = '1.3.6.1.4.1.318.1.1';
const ST4 = '1.3.6.1.4.1.1718.4.1';
const EATON = '1.3.6.1.4.1.534.6.6.7';
const CPS = '1.3.6.1.4.1.3808.1.1';

export const PROFILES: Record<string, Profile> = {
  'apc-rpdu2': {
    name: 'apc-rpdu2',
    description: 'APC/Schneider rack PDU, rPDU2 branch (AP88xx metered-by-outlet, APDU families)',
    tables: [
      {
        kind: 'outlet',
        label: 'rPDU2OutletMeteredStatusTable',
        name_oid: `${APC}.26.9.4.3.1.3`,
        id_oids: [`${APC}.26.9.4.3.1.2`, `${APC}.26.9.4.3.1.4`],
        columns: [
          // MIB text gives no unit for Power; watts in practice (docs/protocols.md "SNMP").
          { oid: `${APC}.26.9.4.3.1.7`, measure: 'power_w', scale: 1, invalid_below: 0 },
          { oid: `${APC}.26.9.4.3.1.11`, measure: 'energy_wh', scale: 100, invalid_below: 0 },
          { oid: `${APC}.26.9.4.3.1.6`, measure: 'current_a', scale: 0.1, invalid_below: 0 },
        ],
      },
      {
        kind: 'phase',
        label: 'rPDU2PhaseStatusTable',
        optional: true,
        columns: [
          { oid: `${APC}.26.6.3.1.7`, measure: 'power_w', scale: 10, invalid_below: 0 },
          { oid: `${APC}.26.6.3.1.5`, measure: 'current_a', scale: 0.1, invalid_below: 0 },
          { oid: `${APC}.26.6.3.1.6`, measure: 'voltage_v', scale: 1, invalid_below: 0 },
        ],
      },
      {
        kind: 'device',
        label: 'rPDU2DeviceStatusTable',
        optional: true,
        columns: [
          // hundredths of kW → W; tenths of kWh → Wh; −1 when unsupported
          { oid: `${APC}.26.4.3.1.5`, measure: 'power_w', scale: 10, invalid_below: 0 },
          { oid: `${APC}.26.4.3.1.9`, measure: 'energy_wh', scale: 100, invalid_below: 0 },
        ],
      },
      {
        kind: 'sensor',
        label: 'rPDU2SensorTempHumidityStatusTable',
        optional: true,
        columns: [
          { oid: `${APC}.26.10.2.2.1.8`, measure: 'temp_c', scale: 0.1 },
          { oid: `${APC}.26.10.2.2.1.10`, measure: 'humidity_pct', scale: 1, invalid_below: 0 },
        ],
      },
    ],
  },
  'apc-rpdu': {
    name: 'apc-rpdu',
    description: 'APC legacy rPDU branch (AP79xx/AP78xx switched PDUs): outlet state and current, PDU watts',
    tables: [
      {
        kind: 'outlet',
        label: 'rPDUOutletStatusTable',
        name_oid: `${APC}.12.3.5.1.1.2`,
        columns: [
          { oid: `${APC}.12.3.5.1.1.4`, measure: 'on', scale: 1, states: { true: [1], false: [2] } },
          { oid: `${APC}.12.3.5.1.1.7`, measure: 'current_a', scale: 0.1 },
        ],
      },
      {
        kind: 'device',
        label: 'rPDUIdentDevicePowerWatts',
        optional: true,
        columns: [{ oid: `${APC}.12.1.16`, measure: 'power_w', scale: 1, invalid_below: 0 }],
      },
    ],
  },
  'raritan-pdu2': {
    name: 'raritan-pdu2',
    description:
      'Raritan/Legrand PX2/PX3 (PDU2-MIB): sensor tables indexed pdu.outlet.sensorType, scaled by DecimalDigits',
    special: 'raritan-pdu2',
    tables: [],
  },
  sentry4: {
    name: 'sentry4',
    description: 'Server Technology Sentry4 (PRO1/PRO2): outlets, input cords, temperature',
    tables: [
      {
        kind: 'outlet',
        label: 'st4OutletTable',
        name_oid: `${ST4}.8.2.1.3`,
        alias_oids: [`${ST4}.8.2.1.2`],
        columns: [
          { oid: `${ST4}.8.3.1.7`, measure: 'power_w', scale: 1, invalid_below: 0 },
          { oid: `${ST4}.8.3.1.14`, measure: 'energy_wh', scale: 1, invalid_below: 0 },
          { oid: `${ST4}.8.3.1.3`, measure: 'current_a', scale: 0.01, invalid_below: 0 },
          { oid: `${ST4}.8.3.1.1`, measure: 'on', scale: 1, states: { true: [1], false: [2] } },
        ],
      },
      {
        kind: 'inlet',
        label: 'st4InputCordTable',
        optional: true,
        columns: [
          { oid: `${ST4}.3.3.1.3`, measure: 'power_w', scale: 1, invalid_below: 0 },
          { oid: `${ST4}.3.3.1.10`, measure: 'energy_wh', scale: 100, invalid_below: 0 },
        ],
      },
      {
        kind: 'sensor',
        label: 'st4TempSensorTable',
        optional: true,
        // −410 is the MIB's "invalid"; the valid range starts at −400 (tenths).
        columns: [{ oid: `${ST4}.9.3.1.1`, measure: 'temp_c', scale: 0.1, invalid_below: -409 }],
      },
    ],
  },
  'eaton-epdu': {
    name: 'eaton-epdu',
    description: 'Eaton ePDU G3/G4 (EATON-EPDU-MIB): outlets and inputs',
    tables: [
      {
        kind: 'outlet',
        label: 'outletTable',
        name_oid: `${EATON}.6.1.1.3`,
        columns: [
          { oid: `${EATON}.6.5.1.3`, measure: 'power_w', scale: 1, invalid_below: 0 },
          // Unsigned32 Wh, writable to 0: wraps at 2^32 and can be reset.
          { oid: `${EATON}.6.5.1.4`, measure: 'energy_wh', scale: 1, wrap: U32 },
          { oid: `${EATON}.6.4.1.3`, measure: 'current_a', scale: 0.001, invalid_below: 0 },
          { oid: `${EATON}.6.6.1.2`, measure: 'on', scale: 1, states: { true: [1, 2], false: [0, 3] } },
        ],
      },
      {
        kind: 'inlet',
        label: 'inputPowerTable',
        optional: true,
        columns: [
          { oid: `${EATON}.3.4.1.4`, measure: 'power_w', scale: 1, invalid_below: 0 },
          { oid: `${EATON}.3.4.1.5`, measure: 'energy_wh', scale: 1, wrap: U32 },
        ],
      },
    ],
  },
  'cyberpower-epdu2': {
    name: 'cyberpower-epdu2',
    description: 'CyberPower metered-by-outlet PDUs, ePDU2 branch (CPS-MIB)',
    tables: [
      {
        kind: 'outlet',
        label: 'ePDU2OutletMeteredStatusTable',
        name_oid: `${CPS}.6.6.2.4.1.4`,
        columns: [
          { oid: `${CPS}.6.6.2.4.1.7`, measure: 'power_w', scale: 1 },
          { oid: `${CPS}.6.6.2.4.1.11`, measure: 'energy_wh', scale: 100, wrap: U32 },
          { oid: `${CPS}.6.6.2.4.1.6`, measure: 'current_a', scale: 0.1 },
        ],
      },
      {
        kind: 'device',
        label: 'ePDU2DeviceStatusTable',
        optional: true,
        columns: [{ oid: `${CPS}.6.3.4.1.9`, measure: 'energy_wh', scale: 100, wrap: U32 }],
      },
    ],
  },
  'cyberpower-epdu': {
    name: 'cyberpower-epdu',
    description: 'CyberPower older switched/metered PDUs, ePDU branch (CPS-MIB)',
    tables: [
      {
        kind: 'outlet',
        label: 'ePDUOutletStatusTable',
        columns: [
          { oid: `${CPS}.3.3.5.1.1.8`, measure: 'power_w', scale: 1 },
          { oid: `${CPS}.3.3.5.1.1.13`, measure: 'energy_wh', scale: 100, wrap: U32 },
          { oid: `${CPS}.3.3.5.1.1.7`, measure: 'current_a', scale: 0.1 },
          { oid: `${CPS}.3.3.5.1.1.4`, measure: 'on', scale: 1, states: { true: [1], false: [2] } },
        ],
      },
    ],
  },
  'ups-mib': {
    name: 'ups-mib',
    description: 'Any UPS speaking UPS-MIB (RFC 1628): output and input lines',
    tables: [
      {
        kind: 'ups',
        label: 'upsOutputTable',
        columns: [
          { oid: '1.3.6.1.2.1.33.1.4.4.1.4', measure: 'power_w', scale: 1 },
          { oid: '1.3.6.1.2.1.33.1.4.4.1.2', measure: 'voltage_v', scale: 1 },
          { oid: '1.3.6.1.2.1.33.1.4.4.1.3', measure: 'current_a', scale: 0.1 },
        ],
      },
      {
        kind: 'inlet',
        label: 'upsInputTable',
        optional: true,
        columns: [
          { oid: '1.3.6.1.2.1.33.1.3.3.1.5', measure: 'power_w', scale: 1 },
          { oid: '1.3.6.1.2.1.33.1.3.3.1.3', measure: 'voltage_v', scale: 1 },
        ],
      },
    ],
  },
  'entity-sensor': {
    name: 'entity-sensor',
    description: 'ENTITY-SENSOR-MIB (RFC 3433) sensors: temperature, power, voltage, current, humidity',
    special: 'entity-sensor',
    tables: [],
  },
  'if-mib': {
    name: 'if-mib',
    description: 'Switch ports (IF-MIB): link state per port, mapped to rigs by ifIndex, ifName or ifDescr',
    tables: [
      {
        kind: 'port',
        label: 'ifTable',
        name_oid: '1.3.6.1.2.1.31.1.1.1.1',
        alias_oids: ['1.3.6.1.2.1.2.2.1.2'],
        // ifOperStatus up(1) / down(2); testing(3), dormant(5), … are neither.
        columns: [
          { oid: '1.3.6.1.2.1.2.2.1.8', measure: 'link_up', scale: 1, states: { true: [1], false: [2, 7] } },
        ],
      },
    ],
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as [string, ...string[]];

/** Raritan PDU2-MIB (docs/protocols.md "SNMP"). Rows are pdu.outlet.sensorType; the measure is in the index. */
export const RARITAN = {
  outletName: '1.3.6.1.4.1.13742.6.3.5.3.1.3',
  outletLabel: '1.3.6.1.4.1.13742.6.3.5.3.1.2',
  outletDecimalDigits: '1.3.6.1.4.1.13742.6.3.5.4.1.7',
  outletValue: '1.3.6.1.4.1.13742.6.5.4.3.1.4',
  inletDecimalDigits: '1.3.6.1.4.1.13742.6.3.3.4.1.7',
  inletValue: '1.3.6.1.4.1.13742.6.5.2.3.1.4',
  /** SensorTypeEnumeration → measure. activeEnergy is in Wh. */
  sensorTypes: { 1: 'current_a', 4: 'voltage_v', 5: 'power_w', 8: 'energy_wh' } as Record<number, Measure>,
  /** measurementsOutletSensorValue is Unsigned32 and wraps (scaled). */
  wrap: U32,
};

/** ENTITY-SENSOR-MIB entPhySensorTable and entPhysicalName (RFC 3433, RFC 6933). */
export const ENTITY_SENSOR = {
  type: '1.3.6.1.2.1.99.1.1.1.1',
  scale: '1.3.6.1.2.1.99.1.1.1.2',
  precision: '1.3.6.1.2.1.99.1.1.1.3',
  value: '1.3.6.1.2.1.99.1.1.1.4',
  operStatus: '1.3.6.1.2.1.99.1.1.1.5',
  name: '1.3.6.1.2.1.47.1.1.1.1.7',
  /** EntitySensorDataType → measure; voltsAC(3), voltsDC(4), amperes(5), watts(6), celsius(8), percentRH(9). */
  types: {
    3: 'voltage_v',
    4: 'voltage_v',
    5: 'current_a',
    6: 'power_w',
    8: 'temp_c',
    9: 'humidity_pct',
  } as Record<number, Measure>,
};

/** Units a generic (config-defined) column may be in, and the factor to the base unit of its measure. */
export const GENERIC_UNITS: Record<string, { measure: Measure; factor: number }> = {
  W: { measure: 'power_w', factor: 1 },
  kW: { measure: 'power_w', factor: 1000 },
  Wh: { measure: 'energy_wh', factor: 1 },
  kWh: { measure: 'energy_wh', factor: 1000 },
  A: { measure: 'current_a', factor: 1 },
  mA: { measure: 'current_a', factor: 0.001 },
  V: { measure: 'voltage_v', factor: 1 },
  mV: { measure: 'voltage_v', factor: 0.001 },
  C: { measure: 'temp_c', factor: 1 },
  '%RH': { measure: 'humidity_pct', factor: 1 },
  ifOperStatus: { measure: 'link_up', factor: 1 },
  'on/off': { measure: 'on', factor: 1 },
};
