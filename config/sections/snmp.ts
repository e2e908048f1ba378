import { z } from 'zod';
import { GENERIC_UNITS, PROFILE_NAMES } from '../../protocols/snmp/profiles.js';
import { hostPortCheck } from '../address.js';
import { secretField } from '../secret-field.js';

/** SNMP devices (PDUs, sensors, switches) and their mapping to rigs. */

const NAME = /^[A-Za-z0-9._:-]+$/;
const OID = /^\.?[0-9]+(\.[0-9]+)+$/;
/** host, host:port or [ipv6]:port; SNMP defaults to port 161. */
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

const oid = (what: string) =>
  z.string().regex(OID, 'expected a numeric OID such as 1.3.6.1.4.1.318.1.1.26.9.4.3.1.7').describe(what);

const MEASURES = [
  'power',
  'energy',
  'current',
  'voltage',
  'temperature',
  'humidity',
  'link',
  'state',
] as const;
/** Which generic units fit each measure. */
const UNITS_FOR: Record<(typeof MEASURES)[number], string[]> = {
  power: ['W', 'kW'],
  energy: ['Wh', 'kWh'],
  current: ['A', 'mA'],
  voltage: ['V', 'mV'],
  temperature: ['C'],
  humidity: ['%RH'],
  link: ['ifOperStatus'],
  state: ['on/off'],
};

const genericColumn = z
  .object({
    oid: oid(
      'Column OID without the row index (or a scalar OID without .0): every instance under it is a row.',
    ),
    measures: z.enum(MEASURES).describe('What the column measures.'),
    unit: z
      .enum(Object.keys(GENERIC_UNITS) as [string, ...string[]])
      .describe(
        'Unit of the value after scale is applied (W, kW, Wh, kWh, A, mA, V, mV, C, %RH, ifOperStatus, on/off).',
      ),
    scale: z
      .number()
      .positive()
      .default(1)
      .describe('Multiplier from the raw integer to the unit, e.g. 0.1 for a value in tenths.'),
    type: z
      .enum(['integer', 'gauge', 'counter32', 'counter64', 'unsigned32'])
      .default('integer')
      .describe('SNMP type; counter32/unsigned32 energy counters wrap at 2^32, counter64 at 2^64.'),
    invalid_below: z
      .number()
      .optional()
      .describe('Raw values below this mean "not available" (many PDUs send -1).'),
    true_values: z
      .array(z.number().int())
      .default([1])
      .describe('For link/state columns: raw values meaning up/on.'),
    false_values: z
      .array(z.number().int())
      .default([2])
      .describe('For link/state columns: raw values meaning down/off.'),
  })
  .strict()
  .superRefine((col, ctx) => {
    if (!UNITS_FOR[col.measures].includes(col.unit)) {
      ctx.addIssue({
        code: 'custom',
        path: ['unit'],
        message: `unit ${col.unit} does not fit measures: ${col.measures} (use ${UNITS_FOR[col.measures].join(' or ')})`,
      });
    }
  });

const genericTable = z
  .object({
    kind: z
      .enum(['outlet', 'inlet', 'phase', 'bank', 'device', 'sensor', 'port', 'ups'])
      .default('outlet')
      .describe('What each row is: outlet and port rows can be mapped to rigs.'),
    name_oid: oid('Column holding a user-facing name per row (optional).').optional(),
    columns: z.array(genericColumn).min(1).describe('Columns to read; all share the same row index.'),
  })
  .strict();

const v3Schema = z
  .object({
    user: z.string().min(1).max(32).describe('SNMPv3 user name (securityName).'),
    level: z
      .enum(['authNoPriv', 'authPriv'])
      .default('authPriv')
      .describe('authPriv (recommended: authenticated and encrypted) or authNoPriv (authenticated only).'),
    auth_protocol: z
      .enum(['sha', 'sha224', 'sha256', 'sha384', 'sha512', 'md5'])
      .default('sha')
      .describe('Authentication digest: sha (SHA-1), sha224..sha512 (SHA-2, RFC 7860) or md5 (legacy).'),
    auth_key: secretField('SNMPv3 authentication passphrase (at least 8 characters).'),
    priv_protocol: z
      .enum(['aes', 'aes256b', 'aes256r', 'des'])
      .default('aes')
      .describe(
        'Privacy cipher: aes (AES-128), aes256b (AES-256 Blumenthal), aes256r (AES-256 Reeder, "AES256C" on Cisco), des (legacy, needs node --openssl-legacy-provider).',
      ),
    priv_key: secretField(
      'SNMPv3 privacy passphrase (at least 8 characters); required for authPriv.',
    ).optional(),
    context: z.string().optional().describe('SNMPv3 context name, if the agent needs one.'),
  })
  .strict();

export const snmpDeviceSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(NAME, 'letters, digits and . _ : - only')
      .describe('Device name used in mappings, status and meter labels, e.g. pdu-a1.'),
    address: z
      .string()
      .regex(ADDRESS, 'expected host or host:port (e.g. 10.0.9.21 or 10.0.9.21:161)')
      .superRefine(hostPortCheck())
      .describe('Agent address: host or host:port (default port 161).'),
    version: z.enum(['v2c', 'v3']).default('v2c').describe('SNMP version: v2c (community) or v3 (user).'),
    community: secretField('SNMP v2c community (read-only). Required for version v2c.').optional(),
    v3: v3Schema.optional().describe('SNMPv3 credentials. Required for version v3.'),
    profile: z
      .enum([...PROFILE_NAMES, 'generic'])
      .default('apc-rpdu2')
      .describe(
        `Device profile: ${PROFILE_NAMES.join(', ')}, or generic (tables defined below under generic).`,
      ),
    generic: z
      .object({ tables: z.array(genericTable).min(1).describe('Tables to walk.') })
      .strict()
      .optional()
      .describe('The OIDs to read when profile is generic: a site with an unlisted device needs no code.'),
    interval_ms: z.number().int().min(1000).default(30_000).describe('How often the device is polled.'),
    timeout_ms: z
      .number()
      .int()
      .min(50)
      .max(60_000)
      .default(2000)
      .describe('Timeout of one SNMP request (one datagram and its answer).'),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(1)
      .describe('Extra tries of one request after a timeout.'),
    max_repetitions: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(10)
      .describe('GETBULK max-repetitions. Lower it (even to 1) for agents that time out or answer tooBig.'),
    deadline_ms: z
      .number()
      .int()
      .min(100)
      .optional()
      .describe('Hard deadline for one whole device poll. Defaults to 80% of interval_ms.'),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.version === 'v2c' && !d.community) {
      ctx.addIssue({ code: 'custom', path: ['community'], message: 'required for version v2c' });
    }
    if (d.version === 'v3' && !d.v3) {
      ctx.addIssue({
        code: 'custom',
        path: ['v3'],
        message: 'required for version v3 (user, auth_key, priv_key)',
      });
    }
    if (d.v3?.level === 'authPriv' && !d.v3.priv_key) {
      ctx.addIssue({ code: 'custom', path: ['v3', 'priv_key'], message: 'required for level authPriv' });
    }
    for (const key of ['auth_key', 'priv_key'] as const) {
      const secret = d.v3?.[key];
      if (secret && secret.reveal().length < 8) {
        ctx.addIssue({
          code: 'custom',
          path: ['v3', key],
          message: 'must be at least 8 characters (RFC 3414)',
        });
      }
    }
    if (d.profile === 'generic' && !d.generic) {
      ctx.addIssue({ code: 'custom', path: ['generic'], message: 'required when profile is generic' });
    }
    if (d.profile !== 'generic' && d.generic) {
      ctx.addIssue({ code: 'custom', path: ['generic'], message: 'only used when profile is generic' });
    }
    if (d.deadline_ms !== undefined && d.deadline_ms >= d.interval_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['deadline_ms'],
        message: `must be below interval_ms (${d.interval_ms})`,
      });
    }
  });

export const snmpMapSchema = z
  .object({
    rig: z.string().min(1).describe('The rig: its configured name or its address (host:port).'),
    device: z.string().min(1).describe('Name of the SNMP device (a PDU or switch under snmp.devices).'),
    outlet: z
      .union([z.string().min(1), z.number().int().nonnegative()])
      .optional()
      .describe(
        'PDU outlet: its id (APC "unit.outlet" or just the outlet number on unit 1; row index elsewhere) or its name on the PDU.',
      ),
    port: z
      .union([z.string().min(1), z.number().int().nonnegative()])
      .optional()
      .describe('Switch port: ifIndex, ifName or ifDescr (for link state).'),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.outlet === undefined) === (m.port === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['outlet'], message: 'give exactly one of outlet or port' });
    }
  });

export const snmpSection = z
  .object({
    devices: z
      .array(snmpDeviceSchema)
      .default([])
      .describe('SNMP devices to poll (PDUs, UPS, sensors, switches).'),
    map: z
      .array(snmpMapSchema)
      .default([])
      .describe(
        'Which outlet (or switch port) feeds which rig. A rig on two outlets (two PSUs) gets their sum.',
      ),
    concurrency: z.number().int().min(1).max(1024).default(64).describe('Most SNMP devices polled at once.'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const names = new Map<string, number>();
    s.devices.forEach((d, i) => {
      const first = names.get(d.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'name'],
          message: `duplicate device name: same as devices[${first}]`,
        });
      } else names.set(d.name, i);
    });
    const seen = new Map<string, number>();
    s.map.forEach((m, i) => {
      if (!names.has(m.device)) {
        ctx.addIssue({
          code: 'custom',
          path: ['map', i, 'device'],
          message: `no device named ${m.device} under snmp.devices`,
        });
      }
      const key = `${m.device}\u0000${m.outlet !== undefined ? `o${m.outlet}` : `p${m.port}`}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['map', i, m.outlet !== undefined ? 'outlet' : 'port'],
          message: `already mapped by map[${first}]`,
        });
      } else seen.set(key, i);
    });
  })
  .default({ devices: [], map: [], concurrency: 64 })
  .describe('Metered power from smart PDUs, sensors and switches over SNMP.');

export type SnmpConfig = z.output<typeof snmpSection>;
export type SnmpDeviceConfig = SnmpConfig['devices'][number];
export type SnmpMapConfig = SnmpConfig['map'][number];
export type GenericTableConfig = z.output<typeof genericTable>;
