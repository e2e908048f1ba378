/**
 * Loan report figures (no assertion: it measures).
 *
 * - `node --import tsx loans/report.bench.ts [RIGS] [DAYS]`: fills a real embedded store with hourly rollups for
 *   RIGS pledged rigs over DAYS days (written straight into the rollups table, as the store keeps them), then
 *   times the signed 30-day report and its offline verification.
 * - `node --import tsx loans/report.bench.ts replay [RIGS] [PLEDGED_SHARE]`: the pledged-vs-seen replay of the
 *   report's last 6 hours of raw polls at RIGS rigs (below).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { silentLogger } from '../collector/journal.js';
import { EmbeddedStore, splitDetail } from '../collector/sinks/embedded.js';
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

// ---------------------------------------------------------------------------------------------------------------
// `node --import tsx loans/report.bench.ts replay [RIGS] [PLEDGED_SHARE]`: the pledged-vs-seen replay at scale.
// Fills an embedded store with RIGS rigs × 6 h of polls at 15 s (rows written straight into `readings`, one
// detail shape per rig, as the store keeps them), a loan pledging PLEDGED_SHARE of the rigs by MAC (default 0.05),
// then, in a child process (so its peak RSS is the report's), times `report()` (synchronous, the whole call blocks
// the event loop) and `reportAsync()` (the API's path; the longest event-loop block measured by a 5 ms timer):
// wall, CPU, RSS before/peak, heap. Prints the figures and writes JSON to $TMPDIR/rigtel-bench. Asserts nothing.

const REPLAY_INTERVAL_MS = 15_000;
const REPLAY_HOURS = 6;
const REPLAY_TO = Date.parse('2026-10-02T00:00:00Z');

function replayConfig(dir: string, rigs: number, share: number) {
  const every = Math.max(1, Math.round(1 / share));
  const pledged = Array.from({ length: rigs }, (_, i) => i).filter((i) => i % every === 0);
  return validateConfig({
    storage: { dir, journal_fsync: 'off' },
    emulator: { mode: 'off' },
    poll: { interval_ms: REPLAY_INTERVAL_MS, poll_deadline_ms: 10_000 },
    economics: { pool_fee: 0.02, tariff: { usd_per_kwh: 0.05 } },
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
          id: 'R1',
          lender: 'Bench',
          principal_usd: 2_000_000,
          rate_apr: 0.12,
          start: '2026-09-01',
          pledges: pledged.map((i) => ({
            mac: replayMac(i),
            model: 'Antminer S19 Pro',
            nominal_ths: 110,
            nominal_w: 3250,
          })),
          collateral: {
            tiers: [{ label: 'all', max_j_per_th: null, usd_per_th: 8 }],
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
}

function replayMac(i: number): string {
  const h = (v: number) => (v & 255).toString(16).padStart(2, '0');
  return `aa:bb:00:${h(i >> 16)}:${h(i >> 8)}:${h(i)}`;
}

/** A detail as `EmbeddedStore.ingest` stores it: identity, three boards, fans, pools, address. */
function replayDetail(i: number, k: number) {
  return {
    identity: {
      serial: `SN${String(i).padStart(8, '0')}`,
      mac: replayMac(i),
      model: 'Antminer S19 Pro',
      firmware: '2024.1',
      hostname: `rig-${i}`,
    },
    boards: [0, 1, 2].map((b) => ({
      index: b,
      hashrate_hs: 36e12 + ((i + k + b) % 50) * 1e10,
      temp_chip_c: 70 + ((k + b) % 5),
      temp_board_c: 60 + (k % 4),
      chips: 76,
      hw_errors: k,
    })),
    fans: [0, 1, 2, 3].map((f) => ({ index: f, rpm: 5000 + ((k + f) % 40) })),
    pools: [
      { url: 'stratum+tcp://pool.example:3333', user: `farm.rig${i}`, accepted: 1000 + k, rejected: k % 3 },
    ],
    support: null,
    repairs: null,
    notes: [],
    hashrate_avg_hs: 110e12,
    hashrate_nominal_hs: 110e12,
    uptime_s: 86_400 + k * 15,
    power_miner_w: 3250,
    energy_wh: null,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:4028`,
    error_message: null,
    duration_ms: 40 + (k % 13),
  };
}

export async function fillReplayStore(dir: string, rigs: number): Promise<{ rows: number; fill_ms: number }> {
  const store = EmbeddedStore.open(dir, {
    rawRetentionHours: 48,
    rollupRetentionDays: 3650,
    intervalMs: REPLAY_INTERVAL_MS,
    backoffMaxMs: 300_000,
    log: silentLogger,
  });
  const t0 = performance.now();
  const db = store.db;
  const from = REPLAY_TO - REPLAY_HOURS * HOUR;
  const addRig = db.prepare('INSERT INTO rigs (id, rig_id) VALUES (?, ?)');
  const addShape = db.prepare('INSERT INTO details (id, hash, shape) VALUES (?, ?, ?)');
  const nums: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < rigs; i++) {
      const { shape, nums: n } = splitDetail(replayDetail(i, 0));
      addRig.run(i + 1, `rig-${String(i).padStart(5, '0')}`);
      addShape.run(i + 1, `bench-${i}`, shape);
      nums.push(n);
    }
  })();
  const insert = db.prepare(
    `INSERT INTO readings (rig, at_ms, seq, ok, state, hashrate_hs, power_w, power_source, temp_chip_max_c, temp_board_max_c, error_code, shape, nums)
     VALUES (?, ?, ?, 1, 0, ?, 3250, 1, 72, 63, NULL, ?, ?)`,
  );
  let seq = 0;
  const step = 15 * 60_000; // a quarter of an hour of polls per transaction
  for (let t0q = from; t0q < REPLAY_TO; t0q += step) {
    db.transaction(() => {
      for (let t = t0q; t < t0q + step && t < REPLAY_TO; t += REPLAY_INTERVAL_MS)
        for (let i = 0; i < rigs; i++) insert.run(i + 1, t, ++seq, 108e12 + (i % 7) * 1e12, i + 1, nums[i]!);
    })();
  }
  const roll = db.prepare(
    `INSERT INTO rollups (rig_id, hour_ms, polls, polls_ok, polls_expected, hashrate_sum, hashrate_n, power_sum, power_n, source_rank, energy_wh, energy_s, temp_chip_max_c, mining_s, curtailed_s, offline_s, covered_s)
     VALUES (?, ?, 240, 240, 240, ?, 240, ?, 240, 2, 3250, 3600, 72, 3600, 0, 0, 3600)`,
  );
  db.transaction(() => {
    for (let i = 0; i < rigs; i++)
      for (let h = REPLAY_TO - 24 * HOUR; h < REPLAY_TO; h += HOUR)
        roll.run(`rig-${String(i).padStart(5, '0')}`, h, 108e12 * 240, 3250 * 240);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const fillMs = performance.now() - t0;
  await store.close();
  return { rows: seq, fill_ms: Math.round(fillMs) };
}

/** In the child: open the filled store and time one report each way. */
async function measureReplay(dir: string, rigs: number, share: number) {
  const config = replayConfig(dir, rigs, share);
  const store = EmbeddedStore.open(dir, {
    rawRetentionHours: 48,
    rollupRetentionDays: 3650,
    intervalMs: REPLAY_INTERVAL_MS,
    backoffMaxMs: 300_000,
    log: silentLogger,
  });
  const service = new LoanService({ config, store, now: () => REPLAY_TO + HOUR });
  const from = REPLAY_TO - 24 * HOUR;
  const mib = (b: number) => Math.round(b / 2 ** 20);
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const sync = service.report('R1', from, REPLAY_TO);
  const syncMs = performance.now() - t0;
  const syncCpu = process.cpuUsage(cpu0);
  const peakSync = process.resourceUsage().maxRSS * 1024;
  const heapAfterSync = process.memoryUsage().heapUsed;
  // The API's path: the longest gap between ticks of a 5 ms timer while reportAsync runs.
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const n = performance.now();
    longest = Math.max(longest, n - last);
    last = n;
  }, 5);
  const a0 = performance.now();
  const acpu0 = process.cpuUsage();
  const asyncDoc = await service.reportAsync('R1', from, REPLAY_TO);
  const asyncMs = performance.now() - a0;
  const asyncCpu = process.cpuUsage(acpu0);
  longest = Math.max(longest, performance.now() - last);
  clearInterval(tick);
  const body = sync.doc.body;
  const out = {
    rigs,
    pledged: body.reconciliation.pledged,
    samples: body.reconciliation.window.samples,
    unpledged: body.reconciliation.unpledged.length,
    identical: asyncDoc.bytes === sync.bytes,
    report_bytes: sync.bytes.length,
    report_hash: sync.doc.hash,
    sync_ms: Math.round(syncMs),
    sync_cpu_ms: Math.round((syncCpu.user + syncCpu.system) / 1000),
    async_ms: Math.round(asyncMs),
    async_cpu_ms: Math.round((asyncCpu.user + asyncCpu.system) / 1000),
    async_longest_loop_block_ms: Math.round(longest),
    rss_before_mib: mib(rssBefore),
    peak_rss_after_sync_mib: mib(peakSync),
    peak_rss_mib: mib(process.resourceUsage().maxRSS * 1024),
    heap_after_sync_mib: mib(heapAfterSync),
  };
  service.close();
  await store.close();
  return out;
}

export async function runReplayBench(rigs = 1000, share = 0.05) {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-replay-bench-'));
  try {
    const loadBefore = loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    const fill = await fillReplayStore(dir, rigs);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), 'replay-run', dir, String(rigs), String(share)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) throw new Error(`replay child failed: ${child.stderr}`);
    const figures = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    return {
      node: process.version,
      at: new Date().toISOString(),
      rows: fill.rows,
      window_hours: REPLAY_HOURS,
      interval_ms: REPLAY_INTERVAL_MS,
      fill_ms: fill.fill_ms,
      ...figures,
      loadavg_before: loadBefore,
      loadavg_after: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mode = process.argv[2];
  if (mode === 'replay-run') {
    const [dir, rigs, share] = process.argv.slice(3);
    console.log(JSON.stringify(await measureReplay(dir!, Number(rigs), Number(share))));
  } else if (mode === 'replay') {
    const r = await runReplayBench(Number(process.argv[3] ?? 1000), Number(process.argv[4] ?? 0.05));
    for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(32)} ${v}`);
    const outDir = join(tmpdir(), 'rigtel-bench');
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, `loan-replay-${process.argv[3] ?? 1000}-${r.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, JSON.stringify(r, null, 2));
    console.log(`  ${'JSON'.padEnd(32)} ${out}`);
  } else {
    const rigs = Number(process.argv[2] ?? 1000);
    const days = Number(process.argv[3] ?? 30);
    console.log(await runLoanBench(rigs, days));
  }
}
