import { z } from 'zod';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const date = (what: string) => z.string().regex(DATE, 'expected a date YYYY-MM-DD').describe(what);
const instant = (what: string) =>
  z
    .string()
    .refine((s) => Number.isFinite(Date.parse(s)), 'expected an ISO 8601 time, e.g. 2026-11-01T00:00:00Z')
    .describe(what);

/** One pledged rig: a line of the lender's asset register. At least a serial or a MAC identifies it. */
export const pledgeSchema = z
  .object({
    serial: z.string().min(1).max(64).optional().describe('Serial number as the miner reports it.'),
    mac: z
      .string()
      .regex(/^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$/, 'expected a MAC, e.g. aa:bb:cc:dd:ee:ff')
      .optional()
      .describe('MAC address of the control board.'),
    model: z.string().min(1).max(64).describe('Model as pledged, e.g. "Antminer S19 Pro".'),
    nominal_ths: z.number().positive().describe('Nameplate hashrate in TH/s.'),
    nominal_w: z.number().positive().describe('Nameplate power in W.'),
    firmware: z
      .string()
      .max(128)
      .optional()
      .describe('Firmware as pledged; a different one marks the rig changed.'),
    boards: z.number().int().min(1).max(16).optional().describe('Hash boards as pledged.'),
    site: z.string().max(64).optional().describe('Site of the asset register line.'),
    rack: z.string().max(64).optional().describe('Rack.'),
    slot: z.string().max(64).optional().describe('Slot.'),
    lien_ref: z.string().max(128).optional().describe('Lien reference (UCC-1 / schedule line).'),
  })
  .strict()
  .refine((p) => p.serial !== undefined || p.mac !== undefined, {
    message: 'a pledge needs a serial or a mac',
    path: ['serial'],
  });

const covenant = (what: string, min: number, max: number) =>
  z
    .object({
      threshold: z.number().min(min).max(max).describe(`${what} threshold.`),
      cure_days: z
        .number()
        .int()
        .min(0)
        .max(365)
        .default(30)
        .describe('Days a breach may last before it stands (a breach cured within them reports `cured`).'),
      at_risk_margin: z
        .number()
        .min(0)
        .max(1)
        .default(0.1)
        .describe('`at_risk` when the figure is within this share of the threshold (0.1 = 10 %).'),
    })
    .strict()
    .optional()
    .describe(what);

export const facilitySchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits and . _ - only')
      .describe('Loan id used in URLs and tokens (/v1/loans/ID).'),
    lender: z.string().min(1).max(128).describe('Lender name.'),
    principal_usd: z.number().positive().describe('Principal in USD.'),
    rate_apr: z.number().min(0).max(2).describe('Annual interest rate (0.12 = 12 %).'),
    start: date('Start date of the loan (first period begins here, site time zone).'),
    term_months: z.number().int().min(1).max(600).default(24).describe('Term in months.'),
    amortization: z
      .enum(['level', 'straight', 'interest_only'])
      .default('level')
      .describe(
        'level: equal monthly payments (annuity); straight: equal principal plus interest; interest_only: principal at maturity.',
      ),
    schedule: z
      .array(
        z
          .object({
            due: date('Due date.'),
            principal_usd: z.number().min(0).describe('Principal due.'),
            interest_usd: z.number().min(0).describe('Interest due.'),
          })
          .strict(),
      )
      .optional()
      .describe('Explicit debt-service schedule; replaces the one computed from amortization.'),
    pledges: z.array(pledgeSchema).default([]).describe('Pledged rigs (added to those of register_csv).'),
    register_csv: z
      .string()
      .optional()
      .describe(
        'Lender asset register, CSV with a header: serial, mac, model, nominal_ths, nominal_w, site, rack, slot, lien_ref (firmware, boards optional).',
      ),
    collateral: z
      .object({
        tiers: z
          .array(
            z
              .object({
                label: z
                  .string()
                  .min(1)
                  .max(64)
                  .describe('Tier label as the price source names it, e.g. "<25 J/TH".'),
                max_j_per_th: z
                  .number()
                  .positive()
                  .nullable()
                  .describe('Upper efficiency bound (null: no bound).'),
                usd_per_th: z.number().min(0).describe('Price per nameplate TH/s.'),
              })
              .strict(),
          )
          .min(1)
          .describe('$/TH by efficiency tier, best tier first.'),
        marked_on: date('Date of the price table.'),
        source: z.string().min(1).max(200).describe('Where the price table comes from.'),
        haircut: z.number().min(0).max(1).default(0.3).describe('Share taken off the marked value.'),
      })
      .strict()
      .describe('How the pledged rigs are marked.'),
    covenants: z
      .object({
        min_dscr: covenant('Minimum debt service coverage ratio', 0, 100),
        max_ltv: covenant('Maximum loan to value', 0, 10),
        min_performance_ratio: covenant('Minimum measured / nameplate TH/s of the pledged rigs', 0, 2),
        min_uptime: covenant(
          'Minimum uptime of the pledged rigs (curtailment and maintenance excluded)',
          0,
          1,
        ),
        min_units_online: covenant('Minimum share of pledged rigs online', 0, 1),
      })
      .strict()
      .default({})
      .describe('Covenant thresholds with cure periods.'),
    derate_share: z
      .number()
      .gt(0)
      .max(1)
      .default(0.8)
      .describe(
        'A pledged rig hashing below this share of nameplate for derate_polls polls in a row is derated.',
      ),
    derate_polls: z
      .number()
      .int()
      .min(1)
      .default(10)
      .describe('Polls below derate_share before a rig is derated.'),
    maintenance: z
      .array(
        z
          .object({
            from: instant('Start of the window.'),
            to: instant('End of the window.'),
            serial: z
              .string()
              .optional()
              .describe('Pledged rig (serial) it applies to; all pledged rigs when absent.'),
            reason: z.string().max(200).default('maintenance').describe('Why.'),
          })
          .strict(),
      )
      .default([])
      .describe('Declared maintenance windows: kept out of uptime, apart from failures.'),
  })
  .strict();

/** Market for loan reports and loan-only cost overrides (costs come from the economics section otherwise). */
export const loansSection = z
  .object({
    timezone: z.string().default('UTC').describe('Site time zone for periods and daily trends (IANA name).'),
    loans_dir: z
      .string()
      .optional()
      .describe('Folder of loan files (one YAML or JSON facility per file), added to facilities.'),
    facilities: z.array(facilitySchema).default([]).describe('Loans secured by the site’s rigs.'),
    tariff_usd_per_kwh: z
      .number()
      .min(0)
      .optional()
      .describe(
        'Override for loan cash flow only: a flat power price in $/kWh replacing economics.tariff (its time-of-use windows; its demand charge still applies). Unset: loan CFADS uses economics.tariff.',
      ),
    hosting_usd_per_kwh: z
      .number()
      .min(0)
      .optional()
      .describe(
        'Override for loan cash flow only: hosting charge per kWh replacing economics.hosting_usd_per_kwh. Unset: the economics value.',
      ),
    pool_fee: z
      .number()
      .min(0)
      .max(0.99)
      .optional()
      .describe(
        'Override for loan cash flow only: pool fee share replacing economics.pool_fee. Unset: the economics value.',
      ),
    other_opex_usd_per_month: z
      .number()
      .min(0)
      .optional()
      .describe(
        'Override for loan cash flow only: site-wide other cash opex per month replacing economics.other_opex_usd_per_month (a loan carries its pledged rigs’ share of site energy). Unset: the economics value.',
      ),
    market: z
      .array(
        z
          .object({
            at: instant('Time the values were recorded.'),
            btc_usd: z.number().positive().describe('BTC price in USD.'),
            difficulty: z.number().positive().describe('Network difficulty.'),
            fees_btc_per_block: z.number().min(0).describe('Average fees per block in BTC.'),
            subsidy_btc: z.number().min(0).default(3.125).describe('Block subsidy in BTC.'),
            source: z.string().min(1).max(200).describe('Where the values come from.'),
          })
          .strict(),
      )
      .default([])
      .describe('Recorded market series: each point holds until the next.'),
  })
  .strict()
  .default({
    timezone: 'UTC',
    facilities: [],
    market: [],
  })
  .describe(
    'Loans secured by rigs: facilities, pledges, covenants, and the cost and market inputs of reports.',
  );

export const auditSection = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Keep the hash-chained audit log (audit.jsonl in storage.dir) of loan, pledge, tariff and token changes.',
      ),
  })
  .strict()
  .default({ enabled: true })
  .describe('Audit trail.');

export type Facility = z.output<typeof facilitySchema>;
export type Pledge = z.output<typeof pledgeSchema>;
export type LoansConfig = z.output<typeof loansSection>;
