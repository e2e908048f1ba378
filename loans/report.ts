/**
 * Loan reports: the evidence a lender keeps. `buildReportBody` turns the engine's figures into the report body
 * (rounded once, here: USD to cents, TH/s to 3 decimals, ratios to 4, J/TH to 2, kWh to 3), so two runs from the
 * same stored data give the same canonical bytes. `reportCsv` renders the same body as CSV for spreadsheets;
 * it carries the JSON report's hash and signature so it can be tied back to the signed file.
 */
import type { LoanCostBasis } from './costs.js';
import type { CovenantFigure, EngineResult } from './covenants.js';
import { FORMULA_VERSION } from './covenants.js';
import type { UnpledgedRig } from './pledges.js';
import type { LoanFacility } from './register.js';
import type { SignedDoc } from './signed.js';
import type { DataProvenance } from './source.js';

export const REPORT_KIND = 'loan-report';

const r = (v: number | null, digits: number): number | null => {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  const x = Math.round(v * f) / f;
  return Object.is(x, -0) ? 0 : x;
};
const usd = (v: number | null) => r(v, 2);
const ratio = (v: number | null) => r(v, 4);
const iso = (ms: number) => new Date(ms).toISOString();

export interface ReportContext {
  facility: LoanFacility;
  fromMs: number;
  toMs: number;
  closed: boolean;
  tz: string;
  costs: LoanCostBasis;
  result: EngineResult;
  unpledged: readonly UnpledgedRig[];
  /** Raw samples replayed for the pledged-vs-seen check. */
  reconciliation_window: { from_ms: number; to_ms: number; samples: number };
  audit_head_hash: string | null;
  site: string;
  /** Where the figures come from when not the collector's embedded store (InfluxDB: which are estimates). */
  data_source?: DataProvenance;
}

function covenantOut(c: CovenantFigure, digits = 4) {
  return {
    value: r(c.value, digits),
    threshold: c.threshold,
    bound: c.bound,
    status: c.status,
    trend: c.trend,
    breach_since: c.breach_since,
    cure_deadline: c.cure_deadline,
    daily: c.daily.map((d) => ({ date: d.date, value: r(d.value, digits) })),
  };
}

export function buildReportBody(ctx: ReportContext) {
  const { facility: f, result: e } = ctx;
  const t = e.totals;
  const byStatus: Record<string, number> = { seen: 0, missing: 0, swapped: 0, changed: 0, derated: 0 };
  for (const rig of e.rigs) byStatus[rig.status] = (byStatus[rig.status] ?? 0) + 1;
  return {
    loan: {
      id: f.id,
      lender: f.lender,
      principal_usd: f.principal_usd,
      rate_apr: f.rate_apr,
      start: f.start,
      term_months: f.term_months,
      amortization: f.schedule?.length ? 'schedule' : f.amortization,
    },
    period: {
      from: iso(ctx.fromMs),
      to: iso(ctx.toMs),
      timezone: ctx.tz,
      closed: ctx.closed,
      site: ctx.site,
    },
    formula_version: FORMULA_VERSION,
    // Absent for the collector's embedded store; a standalone API's InfluxDB source names its estimated figures.
    ...(ctx.data_source ? { data_source: ctx.data_source } : {}),
    inputs: {
      market: e.market_used,
      costs: {
        tariff: ctx.costs.tariff,
        hosting_usd_per_kwh: ctx.costs.hosting_usd_per_kwh,
        hosting_usd_per_rig_month: ctx.costs.hosting_usd_per_rig_month,
        pool_fee: ctx.costs.pool_fee,
        other_opex_usd_per_month: ctx.costs.other_opex_usd_per_month,
        curtailment_credits: ctx.costs.curtailment_credits,
        sources: ctx.costs.sources,
      },
      collateral: {
        tiers: f.collateral.tiers,
        marked_on: f.collateral.marked_on,
        source: f.collateral.source,
        haircut: f.collateral.haircut,
      },
      pledges: f.pledges.map((p) => ({
        key: p.key,
        serial: p.serial ?? null,
        mac: p.mac_norm,
        model: p.model,
        nominal_ths: p.nominal_ths,
        nominal_w: p.nominal_w,
        firmware: p.firmware ?? null,
        boards: p.boards ?? null,
        site: p.site ?? null,
        rack: p.rack ?? null,
        slot: p.slot ?? null,
        lien_ref: p.lien_ref ?? null,
      })),
      maintenance: f.maintenance,
    },
    covenants: {
      dscr: covenantOut(e.covenants.dscr),
      ltv: covenantOut(e.covenants.ltv),
      performance_ratio: covenantOut(e.covenants.performance_ratio),
      uptime: covenantOut(e.covenants.uptime),
      units_online: covenantOut(e.covenants.units_online),
    },
    figures: {
      revenue_usd: usd(t.revenue_usd),
      energy_kwh: r(t.energy_kwh, 3),
      energy_usd: usd(t.energy_usd),
      demand_usd: usd(t.demand_usd),
      curtailment_credits_usd: usd(t.curtailment_credits_usd),
      hosting_usd: usd(t.hosting_usd),
      pool_fees_usd: usd(t.pool_fees_usd),
      other_opex_usd: usd(t.other_opex_usd),
      cfads_usd: usd(t.cfads_usd),
      debt_service_usd: usd(t.debt_service_usd),
      balance_usd: usd(t.balance_usd),
      collateral_measured_usd: usd(t.collateral_measured_usd),
      collateral_nameplate_usd: usd(t.collateral_nameplate_usd),
      ltv_nameplate: ratio(
        t.collateral_nameplate_usd > 0 ? t.balance_usd / t.collateral_nameplate_usd : null,
      ),
      measured_ths: r(t.measured_ths, 3),
      nameplate_ths: r(t.nameplate_ths, 3),
    },
    daily: e.daily.map((d) => ({
      date: d.date,
      revenue_usd: usd(d.revenue_usd),
      cfads_usd: usd(d.cfads_usd),
      debt_service_usd: usd(d.debt_service_usd),
      energy_kwh: r(d.energy_kwh, 3),
    })),
    stress: {
      dscr_hashprice_minus_30: ratio(e.stress.dscr_hashprice_minus_30),
      dscr_hashprice_minus_50: ratio(e.stress.dscr_hashprice_minus_50),
      dscr_after_halving: ratio(e.stress.dscr_after_halving),
    },
    rigs: e.rigs.map((x) => ({
      key: x.key,
      serial: x.serial,
      mac: x.mac,
      model: x.model,
      rig_id: x.rig_id,
      status: x.status,
      status_since: iso(x.status_since_ms),
      detail: x.detail,
      nominal_ths: x.nominal_ths,
      measured_ths: r(x.measured_ths, 3),
      j_per_th: r(x.j_per_th, 2),
      energy_kwh: r(x.energy_kwh, 3),
      revenue_usd: usd(x.revenue_usd),
      uptime: ratio(x.uptime),
      collateral_measured_usd: usd(x.collateral_measured_usd),
      collateral_nameplate_usd: usd(x.collateral_nameplate_usd),
      polls_expected: x.polls_expected,
      polls: x.polls,
      polls_ok: x.polls_ok,
      gap_hours: x.gap_hours,
      gaps: x.gaps.map((g) => ({ from: iso(g.from_ms), to: iso(g.to_ms) })),
    })),
    reconciliation: {
      pledged: e.rigs.length,
      by_status: byStatus,
      problems: e.rigs
        .filter((x) => x.status !== 'seen')
        .map((x) => ({ key: x.key, status: x.status, since: iso(x.status_since_ms), detail: x.detail })),
      unpledged: ctx.unpledged.map((u) => ({
        rig_id: u.rig_id,
        address: u.address,
        serial: u.identity.serial,
        mac: u.identity.mac,
        model: u.identity.model,
        first_seen: iso(u.first_seen_ms),
      })),
      revenue_fleet_usd: usd(t.revenue_usd),
      revenue_rigs_sum_usd: usd(t.revenue_rigs_sum_usd),
      revenue_difference_usd: usd(t.revenue_rigs_sum_usd - t.revenue_usd),
      window: {
        from: iso(ctx.reconciliation_window.from_ms),
        to: iso(ctx.reconciliation_window.to_ms),
        samples: ctx.reconciliation_window.samples,
      },
    },
    coverage: {
      polls_expected: e.coverage.polls_expected,
      polls: e.coverage.polls,
      polls_ok: e.coverage.polls_ok,
      answered_share: ratio(
        e.coverage.polls_expected > 0 ? e.coverage.polls_ok / e.coverage.polls_expected : null,
      ),
      site_hours_covered: e.coverage.site_hours,
      site_gaps: e.coverage.site_gap_hours.map((g) => ({ from: iso(g.from_ms), to: iso(g.to_ms) })),
    },
    audit_head_hash: ctx.audit_head_hash,
  };
}

export type ReportBody = ReturnType<typeof buildReportBody>;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV: covenant rows, then per-rig rows; the trailer ties it to the signed JSON. */
export function reportCsv(doc: SignedDoc<ReportBody>): string {
  const b = doc.body;
  const lines: string[] = [];
  const row = (...cells: unknown[]) => lines.push(cells.map(csvCell).join(','));
  row('section', 'name', 'value', 'threshold', 'status', 'trend');
  for (const [name, c] of Object.entries(b.covenants))
    row('covenant', name, c.value, c.threshold, c.status, c.trend);
  for (const [name, v] of Object.entries(b.figures)) row('figure', name, v, '', '', '');
  for (const [name, v] of Object.entries(b.stress)) row('stress', name, v, '', '', '');
  lines.push('');
  const cols = [
    'key',
    'serial',
    'mac',
    'model',
    'rig_id',
    'status',
    'status_since',
    'nominal_ths',
    'measured_ths',
    'j_per_th',
    'energy_kwh',
    'revenue_usd',
    'uptime',
    'collateral_measured_usd',
    'polls_expected',
    'polls',
    'polls_ok',
    'gap_hours',
  ] as const;
  row(...cols);
  for (const rig of b.rigs) row(...cols.map((c) => (rig as Record<string, unknown>)[c]));
  lines.push('');
  row('loan', b.loan.id, 'period', b.period.from, b.period.to);
  if (b.data_source) {
    row('data_source', b.data_source.store, b.data_source.method);
    row('estimated', ...b.data_source.estimated);
  }
  row('report_hash', doc.hash);
  row('prev_hash', doc.prev_hash ?? '');
  row('signature_ed25519', doc.signature.value);
  row('key_fingerprint', doc.signature.key_fingerprint);
  return `${lines.join('\n')}\n`;
}
