/**
 * The one schema for every rigtel setting. Each key is described here and nowhere else: docs/configuration.md
 * is generated from this file (`npm run docs:config`) and a test fails when it drifts.
 * Unknown keys are rejected so a typo is an error, not a silently ignored setting.
 */
import { z } from 'zod';
import { FAMILIES } from '../protocols/sample.js';
import { hostPortCheck } from './address.js';
import { secretField } from './secret-field.js';
import { alertsSection } from './sections/alerts.js';
import { discoverySection } from './sections/discovery.js';
import { economicsSection, marketSection, timezoneField } from './sections/economics.js';
import { auditSection, loansSection } from './sections/loans.js';
import { sinksSection } from './sections/sinks.js';
import { snmpSection } from './sections/snmp.js';

/** What a rig's `family` may say: a known family, or auto to detect it. */
const RIG_FAMILIES = ['auto', ...FAMILIES.filter((f) => f !== 'unknown')] as const;

/** `host:port`, `host` (default port 4028) or `[ipv6]:port`. */
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** Where a rig stands on the floor: the floor map groups by site, row and rack and orders by slot. */
export const locationSchema = z
  .object({
    site: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Building or container the rig is in, when the floor has several (defaults to site.name).'),
    row: z.string().min(1).max(64).describe('Row (or aisle) name, e.g. "A".'),
    rack: z.string().min(1).max(64).describe('Rack (or shelf) name within the row, e.g. "r01".'),
    slot: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .describe('Position within the rack, counted from 0 or 1.'),
  })
  .strict();

export const rigSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only')
      .optional()
      .describe('Asset name used as the rig id until the miner reveals its MAC. Defaults to host:port.'),
    address: z
      .string()
      .regex(ADDRESS, 'expected host:port (e.g. 10.0.0.12:4028)')
      .superRefine(hostPortCheck())
      .describe('Where the miner API listens: host:port, or host alone for port 4028.'),
    family: z
      .enum(RIG_FAMILIES)
      .default('auto')
      .describe('Miner family, or auto to detect from the replies (aftermarket firmware before stock).'),
    username: z.string().optional().describe('User for APIs that need one (Antminer web UI digest auth).'),
    password: secretField(
      'Password for APIs that need one (Antminer web UI, Whatsminer privileged).',
    ).optional(),
    nameplate_ths: z
      .number()
      .positive()
      .optional()
      .describe(
        'Nameplate hashrate in TH/s, when the miner does not report it and the model table does not know it.',
      ),
    tags: z
      .record(z.string(), z.string())
      .default({})
      .describe('Free labels (rack, row, owner) kept with the rig.'),
    location: locationSchema
      .optional()
      .describe(
        'Where the rig stands (row, rack, slot): the floor map, alerts, MQTT areas and InfluxDB tags use it. Without it the map groups rigs by address.',
      ),
  })
  .strict();

export const pollSchema = z
  .object({
    interval_ms: z.number().int().min(1000).default(30_000).describe('How often each rig is polled.'),
    connect_timeout_ms: z.number().int().min(50).default(3000).describe('TCP connect timeout per command.'),
    command_timeout_ms: z
      .number()
      .int()
      .min(100)
      .default(8000)
      .describe('Hard deadline for one command: connect, send and the whole reply.'),
    poll_deadline_ms: z
      .number()
      .int()
      .min(100)
      .default(20_000)
      .describe(
        'Hard deadline for one rig poll (all its commands). Must be below interval_ms to keep schedule.',
      ),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(256)
      .describe(
        'Most polls in flight at once, in each of two lanes: rigs whose last poll answered, and rigs whose last poll failed (so rigs that hang until their timeout never hold healthy ones back). Up to twice this many sockets are open.',
      ),
    max_reply_bytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe(
        'Largest reply read from a miner; a larger one is cut off and the poll fails with RT_ERR_PROTO_REPLY_TOO_LARGE.',
      ),
    backoff_max_ms: z
      .number()
      .int()
      .min(0)
      .default(300_000)
      .describe('Dead rigs are retried with exponential backoff up to this interval.'),
  })
  .strict();

export const storageSchema = z
  .object({
    dir: z.string().default('./data').describe('Folder for the journal and the embedded store.'),
    raw_retention_hours: z
      .number()
      .positive()
      .default(24 * 14)
      .describe('How long raw samples are kept in the embedded store; hourly rollups are kept much longer.'),
    rollup_retention_days: z
      .number()
      .positive()
      .default(3650)
      .describe('How long hourly per-rig rollups are kept.'),
    store_max_mb: z
      .number()
      .min(0)
      .default(0)
      .describe(
        'Disk the embedded store may use (MB); past it the oldest raw samples go first, in small steps, and the file shrinks. 0: bounded by raw_retention_hours alone. Hourly rollups are not pruned by size.',
      ),
    store_writes: z
      .enum(['auto', 'thread', 'inline'])
      .default('auto')
      .describe(
        "Where the embedded store's writes run (samples, skipped polls, identity bindings, pruning). thread: a worker thread with its own SQLite connection, so a write never holds up polls or the API (about 20–75 ms per 200 samples at 10,000 rigs on a small box); inline: the main thread. auto (the default): thread whenever polls run in worker threads (collector.poll_workers is not 0).",
      ),
    journal_fsync: z
      .enum(['always', 'off'])
      .default('always')
      .describe(
        'Every sample is committed to the journal before it counts as written (survives a crash of the process). always: the journal is also fsynced after every append, off the event loop, so a sample survives power loss a few milliseconds later (unsynced_appends in /v1/status); off: it reaches the disk at the next checkpoint (about a second).',
      ),
    journal_max_mb: z
      .number()
      .positive()
      .default(2048)
      .describe(
        'Disk the journal may use for samples not yet delivered to every sink; past it the oldest are dropped, with a warning first.',
      ),
    disk_low_mb: z
      .number()
      .min(0)
      .default(256)
      .describe(
        'Free space on the storage file system below which rigtel warns (log, /healthz 503) and sheds acknowledged journal data first, before the disk fills and samples are lost.',
      ),
  })
  .strict();

export const apiSchema = z
  .object({
    listen: z
      .string()
      .regex(ADDRESS, 'expected host:port (e.g. 127.0.0.1:8080)')
      .superRefine(hostPortCheck({ allowZeroPort: true, requirePort: true }))
      .default('127.0.0.1:8080')
      .describe('Address the HTTP API listens on. Keep it on loopback or a management network.'),
    enabled: z.boolean().default(true).describe('Serve the HTTP API from the collector process.'),
    allowed_hosts: z
      .array(
        z
          .string()
          .min(1)
          .max(255)
          .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/, 'a host name or address, without port or scheme'),
      )
      .default([])
      .describe(
        'Host header names the API answers besides the loopback names (127.0.0.1, localhost, [::1]) and the api.listen host; any port. Another Host gets 421 RT_ERR_API_HOST_NOT_ALLOWED, so a web page that rebinds its DNS name to this machine cannot read the API. Add the names and addresses operators browse to (e.g. rigtel.site.lan, 10.0.9.5).',
      ),
  })
  .strict();

export const emulatorSchema = z
  .object({
    mode: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe(
        'auto: run the built-in emulated fleet on loopback when no rigs are configured; on: always; off: never.',
      ),
    rigs: z.number().int().min(1).max(20_000).default(24).describe('How many emulated rigs to start.'),
    host: z.string().default('127.0.0.1').describe('Loopback address the emulated rigs listen on.'),
    base_port: z
      .number()
      .int()
      .min(1024)
      .max(65_000)
      .default(14_028)
      .describe('First port of the emulated rigs; each rig takes the next port.'),
    alongside_rigs: z
      .boolean()
      .default(false)
      .describe(
        'With mode on and rigs configured: poll the emulated fleet beside the real rigs (both explicitly asked for). Without it, that combination is an error rather than a silent swap of real rigs for emulated ones.',
      ),
    interval_ms: z
      .number()
      .int()
      .min(1000)
      .default(5000)
      .describe(
        'Poll interval for the built-in demo (emulated fleet, no rigs configured), so figures move at once.',
      ),
    write_sinks: z
      .boolean()
      .default(false)
      .describe(
        'Let the emulated fleet write to the InfluxDB and MQTT sinks configured here. Off by default so demo samples never land in a production database.',
      ),
  })
  .strict();

export const shutdownSchema = z
  .object({
    deadline_ms: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(30_000)
      .describe(
        'Hard deadline for a clean stop (closing the API, aborting polls, flushing sinks and the store). A second SIGTERM/SIGINT while stopping is logged and ignored; past the deadline rigtel exits with code 1, naming what the journal still holds for next start.',
      ),
  })
  .strict();

export const configSchema = z
  .object({
    site: z
      .object({
        name: z
          .string()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only (it is used in MQTT topics and tags)')
          .default('site-1')
          .describe('Site name: tags every sample and forms MQTT topics.'),
        timezone: timezoneField,
      })
      .strict()
      .default({ name: 'site-1', timezone: 'UTC' }),
    rigs: z.array(rigSchema).default([]).describe('Miners to poll.'),
    poll: pollSchema.default(pollSchema.parse({})),
    storage: storageSchema.default(storageSchema.parse({})),
    api: apiSchema.default(apiSchema.parse({})),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('Log level.'),
      })
      .strict()
      .default({ level: 'info' }),
    emulator: emulatorSchema.default(emulatorSchema.parse({})),
    collector: z
      .object({
        shard: z
          .object({
            index: z
              .union([z.number().int().min(0), z.literal('hostname')])
              .default(0)
              .describe(
                "This collector's shard, 0-based; 'hostname' takes it from the host name's trailing number (a Kubernetes StatefulSet ordinal, e.g. rigtel-collector-2). Also RIGTEL_COLLECTOR__SHARD__INDEX.",
              ),
            count: z
              .number()
              .int()
              .min(1)
              .max(1024)
              .default(1)
              .describe(
                'Collectors sharing this site. Each polls the rigs that rendezvous hashing of the rig name (else address) gives it, rescans included. Also RIGTEL_COLLECTOR__SHARD__COUNT.',
              ),
          })
          .strict()
          .default({ index: 0, count: 1 }),
        poll_workers: z
          .union([z.number().int().min(0).max(64), z.literal('auto')])
          .default('auto')
          .describe(
            "Worker threads that run rig polls (sockets, decoding, parsing) off the main thread, which keeps fleet state, the journal and the API. 'auto' (the default): one per core but one, at least one. 0: poll on the main thread (about 75 MiB less memory; docs/scaling.md has the figures).",
          ),
      })
      .strict()
      .default({ shard: { index: 0, count: 1 }, poll_workers: 'auto' }),
    snmp: snmpSection,
    sinks: sinksSection,
    alerts: alertsSection,
    discovery: discoverySection,
    shutdown: shutdownSchema.default(shutdownSchema.parse({})),
    loans: loansSection,
    audit: auditSection,
    economics: economicsSection,
    market: marketSection,
  })
  .strict()
  .superRefine(
    (config, ctx) => {
      // Runs even when fields failed (so every problem is reported at once): guard each value it reads.
      crossFieldChecks(config as Partial<Config> | undefined, ctx);
    },
    { when: () => true },
  );

function crossFieldChecks(config: Partial<Config> | undefined, ctx: z.RefinementCtx): void {
  if (!config || typeof config !== 'object') return;
  const shard = config.collector?.shard;
  if (
    shard &&
    typeof shard.index === 'number' &&
    typeof shard.count === 'number' &&
    shard.index >= shard.count
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['collector', 'shard', 'index'],
      message: `must be below collector.shard.count (${shard.count})`,
    });
  }
  const rigs = Array.isArray(config.rigs) ? config.rigs : [];
  {
    // Names and addresses must each be unique: two entries for one address would poll it twice and merge
    // two assets into one history.
    const names = new Map<string, number>();
    const addresses = new Map<string, number>();
    rigs.forEach((rig, index) => {
      if (!rig || typeof rig.address !== 'string') return;
      const { host, port } = splitAddress(rig.address);
      const address = `${host.toLowerCase()}:${port}`;
      const sameAddress = addresses.get(address);
      if (sameAddress !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rigs', index, 'address'],
          message: `duplicate address: rigs[${sameAddress}] already polls ${address}`,
        });
      } else addresses.set(address, index);
      if (rig.name === undefined) return;
      const sameName = names.get(rig.name);
      if (sameName !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rigs', index, 'name'],
          message: `duplicate name: rigs[${sameName}] is already called ${rig.name}`,
        });
      } else names.set(rig.name, index);
    });
  }
  const poll = config.poll;
  if (
    poll &&
    typeof poll.poll_deadline_ms === 'number' &&
    typeof poll.interval_ms === 'number' &&
    poll.poll_deadline_ms >= poll.interval_ms
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['poll', 'poll_deadline_ms'],
      message: `must be below poll.interval_ms (${poll.interval_ms}) so one slow rig cannot overlap the next round`,
    });
  }
  const emu = config.emulator;
  if (emu && emu.mode === 'on' && rigs.length > 0 && emu.alongside_rigs !== true) {
    ctx.addIssue({
      code: 'custom',
      path: ['emulator', 'mode'],
      message: `on, with ${rigs.length} rig(s) configured: say emulator.mode off to poll the real rigs, or add emulator.alongside_rigs: true to poll both`,
    });
  }
}

/** Config as written in a file (before defaults and transforms). */
export type ConfigInput = z.input<typeof configSchema>;
/** Validated, typed config with defaults applied; secrets are `Secret` objects. */
export type Config = z.output<typeof configSchema>;
export type RigConfig = Config['rigs'][number];
export type RigLocation = z.output<typeof locationSchema>;

/** `host:port` → parts; host alone gets `defaultPort`. */
export function splitAddress(address: string, defaultPort = 4028): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : defaultPort };
  const colon = address.lastIndexOf(':');
  if (colon === -1) return { host: address, port: defaultPort };
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}
