import { z } from 'zod';
import { isTimezone } from '../../economics/timezone.js';
import { secretField } from '../secret-field.js';

const WEEKDAY = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const HTTP_URL = /^https?:\/\/[^\s/]+(\/[^\s]*)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const usd = (what: string) => z.number().min(0).describe(what);

/** The site's IANA time zone (validated with Intl): days, months and time-of-use hours are cut in it. */
export const timezoneField = z
  .string()
  .refine(isTimezone, 'expected an IANA time zone name such as America/Chicago or UTC')
  .default('UTC')
  .describe(
    'IANA time zone of the site (e.g. America/Chicago). Economics cut days and months in it (a DST day is 23 or 25 h) and read time-of-use hours in it.',
  );

const touWindow = z
  .object({
    name: z
      .string()
      .min(1)
      .max(40)
      .optional()
      .describe('Label of the window in cost breakdowns (e.g. on-peak).'),
    days: z.array(WEEKDAY).min(1).describe('Weekdays the window starts on (mon … sun), in the site zone.'),
    from_hour: z.number().int().min(0).max(23).describe('Local hour the window starts (0–23).'),
    to_hour: z
      .number()
      .int()
      .min(0)
      .max(24)
      .describe(
        'Local hour the window ends (exclusive, 1–24). Not after from_hour: the window crosses midnight into the next day.',
      ),
    usd_per_kwh: usd('Energy price inside the window, $/kWh.'),
  })
  .strict();

const tariff = z
  .object({
    usd_per_kwh: usd(
      'Energy price, $/kWh (the whole price for a flat tariff, the base price outside windows).',
    ),
    windows: z
      .array(touWindow)
      .default([])
      .describe('Time-of-use windows overriding the base price; the first matching window wins.'),
    demand_usd_per_kw_month: usd(
      "Demand charge, $ per kW of the month's highest hourly average fleet draw; prorated over partial months.",
    ).default(0),
  })
  .strict();

export const economicsSection = z
  .object({
    pool_fee: z
      .number()
      .min(0)
      .max(0.99)
      .default(0)
      .describe('Pool fee as a fraction (0.02 = 2%). Net revenue = expected revenue × (1 − pool_fee).'),
    payout_scheme: z
      .enum(['fpps', 'pps', 'pplns'])
      .default('fpps')
      .describe(
        'Pool payout scheme. fpps pays expected subsidy and fees per share; pps the subsidy per share; pplns pays from blocks found, so figures are its expected value only (real payouts carry pool luck).',
      ),
    tariff: tariff
      .nullable()
      .default(null)
      .describe(
        'Electricity tariff. Unset (null): energy is measured but not priced, and cost figures say so (the built-in demo uses a flat $0.05/kWh).',
      ),
    hosting_usd_per_kwh: usd('Hosting fee per kWh drawn by the rigs.').default(0),
    hosting_usd_per_rig_month: usd(
      'Hosting fee per rig per month (prorated; rigs seen in the period).',
    ).default(0),
    other_opex_usd_per_month: usd(
      'Other cash operating costs per month (staff, rent, insurance), prorated.',
    ).default(0),
    depreciation_usd_per_rig_month: usd(
      'Depreciation per rig per month when its model has no entry below.',
    ).default(0),
    depreciation_usd_per_model_month: z
      .record(z.string(), z.number().min(0))
      .default({})
      .describe(
        'Depreciation per rig per month by model name as the miner reports it (e.g. "Antminer S19 Pro").',
      ),
    curtailment_credits: z
      .array(
        z
          .object({
            date: z.string().regex(DATE, 'expected YYYY-MM-DD').describe('Local date the credit belongs to.'),
            usd: usd('Credit amount in $ (shown as a negative cost line).'),
            note: z
              .string()
              .max(200)
              .optional()
              .describe('Where the credit comes from (utility program, month).'),
          })
          .strict(),
      )
      .default([])
      .describe(
        'Curtailment / demand-response credits, each on its local date; their own negative cost line.',
      ),
  })
  .strict()
  .default({
    pool_fee: 0,
    payout_scheme: 'fpps',
    tariff: null,
    hosting_usd_per_kwh: 0,
    hosting_usd_per_rig_month: 0,
    other_opex_usd_per_month: 0,
    depreciation_usd_per_rig_month: 0,
    depreciation_usd_per_model_month: {},
    curtailment_credits: [],
  })
  .describe('Money from measured output: pool fee, tariff and costs (docs/economics.md).');

const fixedValues = z
  .object({
    difficulty: z.number().positive().optional().describe('Network difficulty.'),
    height: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Block height (gives the subsidy by the halving schedule).'),
    fees_btc_per_block: z.number().min(0).optional().describe('Transaction fees per block, BTC.'),
    fee_share: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe(
        'Fees as a share of the block reward (fees / (subsidy + fees)); used when fees_btc_per_block is unset.',
      ),
    btc_price_usd: z.number().positive().optional().describe('BTC price in USD.'),
  })
  .strict();

const mempoolProvider = z
  .object({
    kind: z.literal('mempool'),
    name: z.string().min(1).max(40).default('mempool').describe('Name shown in health, metrics and records.'),
    url: z
      .string()
      .regex(HTTP_URL, 'expected http(s)://host[:port][/path]')
      .describe('Base URL of a mempool-style API (e.g. https://mempool.space); /api/… is appended.'),
    timeout_ms: z.number().int().min(100).default(10_000).describe('Deadline of one HTTP request.'),
    refresh_ms: z
      .number()
      .int()
      .min(10_000)
      .default(600_000)
      .describe(
        'How long fetched values are cached before the provider is asked again (public instances rate-limit).',
      ),
  })
  .strict();

const bitcoindProvider = z
  .object({
    kind: z.literal('bitcoind'),
    name: z
      .string()
      .min(1)
      .max(40)
      .default('bitcoind')
      .describe('Name shown in health, metrics and records.'),
    url: z
      .string()
      .regex(HTTP_URL, 'expected http(s)://host:port')
      .describe(
        'Bitcoin Core JSON-RPC endpoint, e.g. http://127.0.0.1:8332 (difficulty, height, per-block fees).',
      ),
    username: z.string().min(1).optional().describe('RPC user (rpcauth).'),
    password: secretField('RPC password.').optional(),
    timeout_ms: z.number().int().min(100).default(10_000).describe('Deadline of one RPC call.'),
    refresh_ms: z.number().int().min(10_000).default(300_000).describe('How long fetched values are cached.'),
  })
  .strict();

export const marketSection = z
  .object({
    fixed: fixedValues
      .nullable()
      .default(null)
      .describe(
        'Fixed market values recorded with source "config" at start and on every refresh. The built-in demo uses its own fixed values when this and providers are unset.',
      ),
    providers: z
      .array(z.discriminatedUnion('kind', [mempoolProvider, bitcoindProvider]))
      .default([])
      .describe(
        'Live market providers, asked on their own timers (never blocking polls). Off by default: rigtel calls no outside service unless one is listed here.',
      ),
    fees_valid_ms: z
      .number()
      .int()
      .min(60_000)
      .default(2 * 86_400_000)
      .describe(
        'How long a recorded fee figure stays usable when no newer one arrives; past it fees are missing.',
      ),
  })
  .strict()
  .default({ fixed: null, providers: [], fees_valid_ms: 2 * 86_400_000 })
  .describe(
    'Market inputs (difficulty, height, fees, BTC price), recorded with time, source and basis in <storage.dir>/market.sqlite.',
  );
