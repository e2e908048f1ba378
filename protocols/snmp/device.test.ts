/** Pure decoding of profile tables, special tables, values and config validation (no network). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import snmp from 'net-snmp';
import { validateConfig } from '../../config/load.js';
import type { ColumnData, SnmpValue } from './client.js';
import { compareOids, decodeValue, isUnder, mapSnmpError } from './client.js';
import { decodeEntitySensors, decodeRaritan, decodeTable, genericProfile } from './device.js';
import { ENTITY_SENSOR, PROFILES, RARITAN } from './profiles.js';

function cols(entries: Record<string, Record<string, SnmpValue>>): ColumnData {
  return new Map(Object.entries(entries).map(([k, v]) => [k, new Map(Object.entries(v))]));
}

describe('SNMP values', () => {
  it('Counter64 arrives as a short Buffer and is left-padded', () => {
    assert.equal(
      decodeValue({ oid: '1', type: snmp.ObjectType.Counter64, value: Buffer.from([0x01, 0x00]) }),
      256,
    );
    const big = Buffer.from([0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]);
    assert.equal(decodeValue({ oid: '1', type: snmp.ObjectType.Counter64, value: big }), 2 ** 32);
  });
  it('OctetStrings are text without trailing NULs', () => {
    assert.equal(
      decodeValue({ oid: '1', type: snmp.ObjectType.OctetString, value: Buffer.from('rig-01\0\0') }),
      'rig-01',
    );
  });
  it('OID order and subtree tests are numeric, not textual', () => {
    assert.ok(compareOids('1.3.6.1.10', '1.3.6.1.9') > 0);
    assert.ok(isUnder('1.3.6.1.4.1.7', '1.3.6.1.4'));
    assert.ok(!isUnder('1.3.6.1.40', '1.3.6.1.4'));
  });
  it('unknown errors become a named bad-reply, never a crash', () => {
    const e = mapSnmpError(new Error('weird'), 'x:161', {
      host: 'x',
      port: 161,
      version: 'v2c',
      timeout_ms: 1,
      retries: 0,
      max_repetitions: 1,
    });
    assert.equal(e.code, 'RT_ERR_SNMP_BAD_REPLY');
  });
});

describe('profile decoding', () => {
  const apc = '1.3.6.1.4.1.318.1.1.26.9.4.3.1';
  it('APC outlets are keyed by unit.outlet with scaling applied and −1 treated as missing', () => {
    const [outletTable] = PROFILES['apc-rpdu2']!.tables;
    const data = cols({
      [`${apc}.2`]: { '1': 1, '2': 1, '25': 2 },
      [`${apc}.4`]: { '1': 1, '2': 2, '25': 1 },
      [`${apc}.3`]: { '1': 'rig-01', '2': '', '25': 'rig-25' },
      [`${apc}.7`]: { '1': 3300, '2': -1, '25': 1200 },
      [`${apc}.11`]: { '1': 12345, '2': 10, '25': 7 },
      [`${apc}.6`]: { '1': 143, '2': 0, '25': 52 },
    });
    const ch = decodeTable(outletTable!, data);
    assert.deepEqual(
      ch.map((c) => [c.id, c.name, c.values.power_w, c.values.energy_wh, c.values.current_a]),
      [
        ['1.1', 'rig-01', 3300, 1_234_500, 14.3],
        ['1.2', null, null, 1000, 0],
        ['2.1', 'rig-25', 1200, 700, 5.2],
      ],
    );
    assert.ok(ch[0]!.aliases.includes('1'), 'unit 1 outlets also answer to the plain number');
    assert.ok(!ch[2]!.aliases.includes('1'), 'unit 2 outlet 1 does not');
  });

  it('Raritan: measure in the index, scale from DecimalDigits, label as alias', () => {
    const data = cols({
      [RARITAN.outletValue]: { '1.5.5': 3312, '1.5.8': 987654, '1.5.1': 145, '1.6.5': 0 },
      [RARITAN.outletDecimalDigits]: { '1.5.5': 0, '1.5.8': 0, '1.5.1': 1, '1.6.5': 0 },
      [RARITAN.outletName]: { '1.5': 'rig-05' },
      [RARITAN.outletLabel]: { '1.5': '5', '1.6': '6' },
    });
    const ch = decodeRaritan(data, 'outlet');
    assert.equal(ch.length, 2);
    assert.deepEqual(ch[0]!.values.power_w, 3312);
    assert.deepEqual(ch[0]!.values.energy_wh, 987654);
    assert.deepEqual(ch[0]!.values.current_a, 14.5);
    assert.equal(ch[0]!.name, 'rig-05');
    assert.equal(ch[0]!.energy_wrap_wh, 2 ** 32);
    assert.ok(ch[1]!.aliases.includes('6'));
  });

  it('ENTITY-SENSOR: value × 10^(3(scale−9)) / 10^precision, unavailable sensors are null', () => {
    const data = cols({
      [ENTITY_SENSOR.type]: { '10': 8, '11': 6, '12': 8 },
      [ENTITY_SENSOR.scale]: { '10': 9, '11': 10, '12': 9 },
      [ENTITY_SENSOR.precision]: { '10': 1, '11': 2, '12': 0 },
      [ENTITY_SENSOR.value]: { '10': 235, '11': 325, '12': 99 },
      [ENTITY_SENSOR.operStatus]: { '10': 1, '11': 1, '12': 2 },
      [ENTITY_SENSOR.name]: { '10': 'Inlet Temp', '11': 'PSU 1 Power' },
    });
    const ch = decodeEntitySensors(data);
    assert.equal(ch[0]!.values.temp_c, 23.5);
    assert.equal(ch[1]!.values.power_w, 3250);
    assert.equal(ch[2]!.values.temp_c, null);
  });

  it('IF-MIB ports: link up/down from ifOperStatus, ifName as name, ifDescr as alias', () => {
    const [ports] = PROFILES['if-mib']!.tables;
    const ch = decodeTable(
      ports!,
      cols({
        '1.3.6.1.2.1.2.2.1.8': { '1': 1, '2': 2, '3': 5 },
        '1.3.6.1.2.1.31.1.1.1.1': { '1': 'Gi1/0/1', '2': 'Gi1/0/2', '3': 'Gi1/0/3' },
        '1.3.6.1.2.1.2.2.1.2': { '1': 'GigabitEthernet1/0/1' },
      }),
    );
    assert.deepEqual(
      ch.map((c) => c.values.link_up),
      [true, false, null],
    );
    assert.ok(ch[0]!.aliases.includes('GigabitEthernet1/0/1'));
  });

  it('generic profile: unit and scale combine, counters get their wrap', () => {
    const p = genericProfile('g', [
      {
        kind: 'outlet',
        columns: [
          {
            oid: '.1.3.6.1.4.1.99.1.2',
            measures: 'power',
            unit: 'kW',
            scale: 0.01,
            type: 'integer',
            true_values: [1],
            false_values: [2],
          },
          {
            oid: '1.3.6.1.4.1.99.1.3',
            measures: 'energy',
            unit: 'kWh',
            scale: 0.1,
            type: 'counter32',
            true_values: [1],
            false_values: [2],
          },
        ],
      },
    ]);
    const ch = decodeTable(
      p.tables[0]!,
      cols({ '1.3.6.1.4.1.99.1.2': { '7': 325 }, '1.3.6.1.4.1.99.1.3': { '7': 42 } }),
    );
    assert.equal(ch[0]!.values.power_w, 3250);
    assert.equal(ch[0]!.values.energy_wh, 4200);
    assert.equal(ch[0]!.energy_wrap_wh, 2 ** 32 * 100);
  });
});

describe('snmp config', () => {
  const problems = (snmpSection: unknown): string => {
    try {
      validateConfig({ snmp: snmpSection });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('accepts a full v2c + v3 + generic setup and keeps keys secret', () => {
    const cfg = validateConfig({
      snmp: {
        devices: [
          { name: 'pdu-a1', address: '10.0.9.21', community: 'public-ro' },
          {
            name: 'pdu-a2',
            address: '10.0.9.22:1161',
            version: 'v3',
            profile: 'raritan-pdu2',
            v3: { user: 'rigtel', auth_protocol: 'sha256', auth_key: 'authpass123', priv_key: 'privpass123' },
          },
        ],
        map: [{ rig: 'rig-01', device: 'pdu-a1', outlet: 1 }],
      },
    });
    assert.equal(cfg.snmp.devices[0]!.interval_ms, 30_000);
    assert.equal(cfg.snmp.devices[1]!.v3!.priv_protocol, 'aes');
    const dumped = JSON.stringify(cfg);
    assert.doesNotMatch(dumped, /authpass123|privpass123|public-ro/);
  });

  it('names the field in every problem', () => {
    assert.match(
      problems({ devices: [{ name: 'p', address: '10.0.0.1' }] }),
      /snmp\.devices\[0\]\.community: required/,
    );
    assert.match(
      problems({
        devices: [{ name: 'p', address: '10.0.0.1', version: 'v3', v3: { user: 'u', auth_key: 'short' } }],
      }),
      /snmp\.devices\[0\]\.v3\.priv_key: required for level authPriv[\s\S]*snmp\.devices\[0\]\.v3\.auth_key: must be at least 8/,
    );
    assert.match(
      problems({ devices: [{ name: 'p', address: '10.0.0.1', community: 'c', profile: 'generic' }] }),
      /snmp\.devices\[0\]\.generic: required when profile is generic/,
    );
    assert.match(
      problems({
        devices: [{ name: 'p', address: '10.0.0.1', community: 'c' }],
        map: [{ rig: 'r', device: 'nope', outlet: 1 }],
      }),
      /snmp\.map\[0\]\.device: no device named nope/,
    );
    assert.match(
      problems({
        devices: [
          {
            name: 'p',
            address: '10.0.0.1',
            community: 'c',
            profile: 'generic',
            generic: { tables: [{ columns: [{ oid: '1.3.6.1.4.1', measures: 'power', unit: 'Wh' }] }] },
          },
        ],
      }),
      /snmp\.devices\[0\]\.generic\.tables\[0\]\.columns\[0\]\.unit: unit Wh does not fit measures: power/,
    );
    assert.match(problems({ devices: [{ name: 'p', address: 'bad address!', community: 'c' }] }), /address/);
    assert.match(
      problems({ devices: [{ name: 'p', address: '10.0.0.1', community: 'c', profile: 'apc9' }] }),
      /profile/,
    );
    assert.match(
      problems({ devices: [{ name: 'p', address: '10.0.0.1', community: 'c', comunity: 'c' }] }),
      /comunity: unknown setting/,
    );
  });
});
