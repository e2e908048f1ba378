/**
 * Loan report figures (no assertion: it measures). `node --import tsx loans/report.bench.ts [RIGS] [DAYS]`
 * Fills a real embedded store with hourly rollups for RIGS pledged rigs over DAYS days (written straight into
 * the rollups table, as the store keeps them), then times the signed 30-day report and its offline verification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { silentLogger } from '../collector/journal.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import { validateConfig } from '../config/load.js';
import { LoanService } from './service.js';
import { verifyDoc } from './signed.js';

const HOUR = 3_600_000;

export async function runLoanBench(rigs = 1000, days = 30) {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-loan-bench-'));
  const from = Date.parse('2026-10-01T00:00:00Z');
  const to = from + days * 24 * HOUR;
  const mac = (i: number) =>
    `aa:bb:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  const config = validateConfig({
    storage: { dir, journal_fsync: 'off' },
    emulator: { mode: 'off' },
    // Loan cash flow prices energy with the economics tariff: a time-of-use one, so every hour is looked up.
    economics: {
      pool_fee: 0.02,
      tariff: {
        usd_per_kwh: 0.05,
        windows: [
          { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from_hour: 14, to_hour: 20, usd_per_kwh: 0.09 },
        ],
        demand_usd_per_kw_month: 8,
      },
    },
    loans: {
      market: [
        {
          at: '2026-09-30T00:00:00Z',
          btc_usd: 95_000,
          difficulty: 150e12,
          fees_btc_per_block: 0.1,
          source: 'bench',
        },
      ],
      facilities: [
        {
          id: 'B1',
          lender: 'Bench',
          principal_usd: 2_000_000,
          rate_apr: 0.12,
          start: '2026-09-01',
          pledges: Array.from({ length: rigs }, (_, i) => ({
            mac: mac(i),
            model: 'Antminer S19 Pro',
            nominal_ths: 110,
            nominal_w: 3250,
          })),
          collateral: {
            tiers: [
              { label: '25-38 J/TH', max_j_per_th: 38, usd_per_th: 8 },
              { label: '>38', max_j_per_th: null, usd_per_th: 3 },
            ],
            marked_on: '2026-09-30',
            source: 'bench',
          },
          covenants: {
            min_dscr: { threshold: 1.25 },
            max_ltv: { threshold: 0.8 },
            min_performance_ratio: { threshold: 0.85 },
            min_uptime: { threshold: 0.9 },
            min_units_online: { threshold: 0.9 },
          },
        },
      ],
    },
  });
  const store = EmbeddedStore.open(dir, {
    rawRetentionHours: 24,
    rollupRetentionDays: 3650,
    intervalMs: 30_000,
    backoffMaxMs: 300_000,
    log: silentLogger,
  });
  const fill0 = performance.now();
  const insert = store.db.prepare(
    `INSERT INTO rollups (rig_id, hour_ms, polls, polls_ok, polls_expected, hashrate_sum, hashrate_n, power_sum, power_n, source_rank, energy_wh, energy_s, temp_chip_max_c, mining_s, curtailed_s, offline_s, covered_s)
     VALUES (?, ?, 120, 120, 120, ?, 120, ?, 120, 2, ?, 3600, 70, 3600, 0, 0, 3600)`,
  );
  store.db.transaction(() => {
    for (let i = 0; i < rigs; i++)
      for (let h = from; h < to; h += HOUR) {
        const ths = 100 + ((i * 7 + h / HOUR) % 20);
        insert.run(mac(i), h, ths * 1e12 * 120, 3250 * 120, 3250);
      }
  })();
  // A running store checkpoints its WAL as it goes; a month of rollups written at once would otherwise all sit
  // in the WAL and slow every read.
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const fillMs = performance.now() - fill0;
  const service = new LoanService({ config, store, now: () => to + HOUR });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const report = service.report('B1', from, to);
  const reportMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const v0 = performance.now();
  const check = verifyDoc(JSON.parse(report.bytes), { publicPem: service.key.publicPem });
  const verifyMs = performance.now() - v0;
  const r2 = performance.now();
  const again = service.report('B1', from, to);
  const rerunMs = performance.now() - r2;
  service.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    rigs,
    days,
    rollup_rows: rigs * days * 24,
    fill_ms: Math.round(fillMs),
    report_ms: Math.round(reportMs),
    report_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    report_bytes: report.bytes.length,
    verify_ms: Math.round(verifyMs),
    verify_ok: check.ok,
    rerun_identical: again.bytes === report.bytes,
    rerun_ms: Math.round(rerunMs),
    peak_rss_mib: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rigs = Number(process.argv[2] ?? 1000);
  const days = Number(process.argv[3] ?? 30);
  console.log(await runLoanBench(rigs, days));
}
