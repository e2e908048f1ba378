/**
 * End to end: emulated Whatsminers on loopback polled by the real collector into the real store, a loan that
 * pledges three of them, a recorded market series. During the run one pledged rig stops answering, another is
 * swapped (its address answers with a new MAC), and an unpledged rig appears. The signed report must flag
 * exactly those three, carry DSCR, LTV, performance ratio and uptime that match the hand arithmetic below,
 * verify (signature, chain) with `rigtel report verify`, and name the field when one digit is changed.
 * Then the lender page in headless Chromium shows the breach and the missing rig and downloads the report.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { buildApp } from '../api/app.js';
import { TokenStore } from '../api/tokens.js';
import { main } from '../cli/main.js';
import { AlertEngine, type AlertEvent } from '../collector/alerts.js';
import { silentLogger } from '../collector/journal.js';
import { type CollectorRuntime, startCollector, targetsFromConfig } from '../collector/runtime.js';
import { validateConfig } from '../config/load.js';
import { type EmulatedRig, startEmulatedRig } from '../protocols/emulator/server.js';
import { driverFor } from '../protocols/registry.js';
import type { ReportBody } from './report.js';
import { LoanService } from './service.js';
import type { SignedDoc } from './signed.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), '.tmp', 'artifacts');
const T0 = Date.parse('2026-11-20T00:00:00Z');
const STEP = 30_000;
const SWEEPS = 20;
const FAULT_AT = 10;
const NOMINAL = 86.472; // the M30S replies' nominal TH/s

let clock = T0;
const now = () => clock;
let dir: string;
const rigs: Record<string, EmulatedRig> = {};
let collector: CollectorRuntime;
let service: LoanService;
let alerts: AlertEngine;
const events: AlertEvent[] = [];
const macs: Record<string, string> = {};
let report: { doc: SignedDoc<ReportBody>; bytes: string };

const pollCfg = {
  interval_ms: STEP,
  poll_deadline_ms: 5000,
  connect_timeout_ms: 1000,
  command_timeout_ms: 3000,
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rigtel-loan-e2e-'));
  const start = (personality: string, seed: number, port = 0) =>
    startEmulatedRig({ personality, seed, port, host: '127.0.0.1', now });
  rigs.a = await start('whatsminer-m30s', 11);
  rigs.b = await start('whatsminer-m30s', 12);
  rigs.d = await start('whatsminer-m30s', 14);
  const base = {
    site: { name: 'loan-e2e' },
    storage: { dir, journal_fsync: 'off' },
    emulator: { mode: 'off' },
    poll: pollCfg,
  };
  const rigList = ['a', 'b', 'd'].map((k) => ({
    name: `rig-${k}`,
    address: rigs[k]!.address,
    family: 'whatsminer',
  }));
  collector = await startCollector(
    validateConfig({ ...base, rigs: rigList }),
    targetsFromConfig(validateConfig({ ...base, rigs: rigList })),
    {
      log: silentLogger,
      driverFor,
      autoStart: false,
      now,
    },
  );
  // The lender's register is what the rigs were when the loan was made: read their MACs once.
  await collector.sweepNow();
  for (const k of ['a', 'b', 'd'])
    macs[k] = collector.fleet.get(`rig-${k}`)!.current!.identity.mac!.toLowerCase();

  const config = validateConfig({
    ...base,
    rigs: rigList,
    // Loan cash flow takes its cost lines from the economics section (no loan-level override here).
    economics: { tariff: { usd_per_kwh: 0.05 }, pool_fee: 0.02 },
    loans: {
      timezone: 'UTC',
      market: [
        {
          at: '2026-11-19T00:00:00Z',
          btc_usd: 90_000,
          difficulty: 150e12,
          fees_btc_per_block: 0.1,
          subsidy_btc: 3.125,
          source: 'recorded: mempool.space difficulty, 3-exchange price',
        },
        {
          at: '2026-11-20T00:05:00Z',
          btc_usd: 100_000,
          difficulty: 150e12,
          fees_btc_per_block: 0.1,
          subsidy_btc: 3.125,
          source: 'recorded: price update',
        },
      ],
      facilities: [
        {
          id: 'L1',
          lender: 'Hash Credit LP',
          principal_usd: 20_000,
          rate_apr: 0,
          start: '2026-11-01',
          schedule: [{ due: '2026-12-01', principal_usd: 20_000 * 0.03, interest_usd: 0 }],
          pledges: ['a', 'b', 'd'].map((k, i) => ({
            mac: macs[k],
            model: 'Whatsminer M30S',
            nominal_ths: NOMINAL,
            nominal_w: 3268,
            rack: 'R1',
            slot: String(i + 1),
            lien_ref: `UCC-1 schedule B line ${i + 1}`,
          })),
          collateral: {
            tiers: [{ label: '38 J/TH and up', max_j_per_th: null, usd_per_th: 10 }],
            marked_on: '2026-11-15',
            source: 'ASIC price index snapshot (test)',
            haircut: 0.3,
          },
          covenants: {
            min_dscr: { threshold: 1.2 },
            max_ltv: { threshold: 5 },
            min_performance_ratio: { threshold: 0.8, cure_days: 7 },
            min_uptime: { threshold: 0.9 },
            min_units_online: { threshold: 0.9 },
          },
        },
      ],
    },
  });
  alerts = new AlertEngine(config.alerts, { now });
  service = new LoanService({ config, store: collector.store, alerts, now });
  collector.onSample((s) => events.push(...service.observe(s)));

  for (let i = 1; i < SWEEPS; i++) {
    clock = T0 + i * STEP;
    if (i === FAULT_AT) {
      // a stops answering; b's address now answers with another board (new MAC); c appears, unpledged.
      await rigs.a.setFault('refuse');
      const port = rigs.b.port;
      await rigs.b.close();
      rigs.b = await start('whatsminer-m30s', 22, port);
      rigs.c = await start('whatsminer-m20s', 13);
      collector.addTargets(
        targetsFromConfig(
          validateConfig({
            ...base,
            rigs: [{ name: 'rig-c', address: rigs.c.address, family: 'whatsminer' }],
          }),
        ),
      );
    }
    await collector.sweepNow();
  }
  assert.equal(await collector.fanout.flush(10_000), true);
  clock = T0 + 3_600_000; // the period [T0, T0 + 10 min) is closed
  report = service.report('L1', T0, T0 + SWEEPS * STEP);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'loan-L1-report.json'), report.bytes);
});

after(async () => {
  service?.close();
  await collector?.stop();
  for (const r of Object.values(rigs)) await r.close().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('loan end to end', () => {
  it('flags exactly the missing, the swapped and the unpledged rig, live and in the report', () => {
    const b = report.doc.body;
    const byMac = Object.fromEntries(b.rigs.map((r) => [r.mac, r]));
    assert.equal(byMac[macs.a!]!.status, 'missing');
    assert.equal(byMac[macs.b!]!.status, 'swapped');
    assert.equal(byMac[macs.d!]!.status, 'seen');
    assert.equal(byMac[macs.a!]!.status_since, new Date(T0 + FAULT_AT * STEP).toISOString());
    assert.deepEqual(b.reconciliation.problems.map((p) => p.status).sort(), ['missing', 'swapped']);
    assert.equal(b.reconciliation.unpledged.length, 1);
    assert.equal(b.reconciliation.unpledged[0]!.address, rigs.c!.address);
    assert.deepEqual(b.reconciliation.by_status, { seen: 1, missing: 1, swapped: 1, changed: 0, derated: 0 });

    // The same three reached the alert list (and so MQTT where the sink publishes it) and the audit log.
    const raised = events
      .filter((e) => e.type === 'raised')
      .map((e) => e.alert.kind)
      .sort();
    assert.deepEqual(raised, ['pledge_missing', 'pledge_swapped', 'unpledged_rig']);
    assert.equal(
      alerts.active().filter((a) => a.kind.startsWith('pledge_') || a.kind === 'unpledged_rig').length,
      3,
    );
    const live = service.live('L1');
    assert.deepEqual(
      live.pledged.map((p) => p.status),
      ['missing', 'swapped', 'seen'],
    );
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    assert.match(audit, /"to":"missing"|"status":"missing"/);
    assert.match(audit, /"status":"swapped"/);
    assert.match(audit, /unpledged/);
    assert.equal(b.audit_head_hash, service.audit!.headHash());
  });

  it('computes the covenant figures as the hand arithmetic says', () => {
    const b = report.doc.body;
    const byMac = Object.fromEntries(b.rigs.map((r) => [r.mac, r]));
    const rollup = (mac: string) => collector.store.rollups(mac, T0, T0 + 3_600_000);
    // Polls at T0 + 0…19 × 30 s; each answered poll holds for the next 30 s, so the site is covered for
    // 19 intervals = 570 s (rig d answers throughout). a answered polls 0–9: 10 intervals = 300 s mining, then
    // failed. b's own board answered polls 0–9; its last interval never closes (the next poll at that address
    // is another board with another id): 9 intervals = 270 s. d: 570 s.
    // Uptime = (300 + 270 + 570) / (3 × 570) = 1140 / 1710 = 0.6667 (< 0.9: breach).
    assert.equal(b.covenants.uptime.value, 0.6667);
    assert.equal(b.covenants.uptime.status, 'breach');
    assert.equal(byMac[macs.a!]!.uptime, 0.5263); // 300 / 570
    assert.equal(byMac[macs.b!]!.uptime, 0.4737); // 270 / 570
    // Performance ratio = Σ (mean hashrate × mining s) / 570 s / (3 × 86.472 TH/s), from the stored rollups.
    const th = (mac: string) =>
      rollup(mac).reduce((s, r) => s + ((r.hashrate_hs ?? 0) / 1e12) * r.mining_s, 0);
    const thS = th(macs.a!) + th(macs.b!) + th(macs.d!);
    const perf = thS / 570 / (3 * NOMINAL);
    assert.ok(perf > 0.5 && perf < 0.75, `performance ratio ${perf}`);
    assert.equal(b.covenants.performance_ratio.value, Math.round(perf * 1e4) / 1e4);
    assert.equal(b.covenants.performance_ratio.status, 'breach');
    // Revenue: work × 1e12 × (3.125 + 0.1) BTC / (150e12 × 2^32) × price, at $90 000 until 00:05 and
    // $100 000 after (hourly work is spread evenly over its hour, so 5/60 of it is priced at $90 000).
    const btc = (thS * 1e12 * 3.225) / (150e12 * 2 ** 32);
    const revenue = btc * (90_000 * (5 / 60) + 100_000 * (55 / 60));
    assert.ok(
      Math.abs(b.figures.revenue_usd! - Math.round(revenue * 100) / 100) <= 0.01,
      `${b.figures.revenue_usd} vs ${revenue}`,
    );
    // Energy from the stored rollups × $0.05/kWh; pool fee 2 %; debt service: $600 due 2026-12-01 for the
    // 30 days from 2026-11-01 → $600 × 600 s / 2 592 000 s = $0.138889 for the 10 minutes.
    const kwh =
      [macs.a!, macs.b!, macs.d!].flatMap(rollup).reduce((s, r) => s + (r.energy_wh ?? 0), 0) / 1000;
    const cfads = revenue * 0.98 - kwh * 0.05;
    const debt = (600 * 600) / 2_592_000;
    assert.equal(b.figures.debt_service_usd, 0.14);
    assert.ok(
      Math.abs(b.covenants.dscr.value! - cfads / debt) < 1e-3,
      `${b.covenants.dscr.value} vs ${cfads / debt}`,
    );
    // LTV: balance $20 000 (0 % rate, nothing due yet) / (measured TH/s × $10 × 0.7).
    const measured = thS / 570;
    assert.ok(Math.abs(b.covenants.ltv.value! - 20_000 / (measured * 7)) < 1e-3);
    // Beside it, the nameplate mark: 3 × 86.472 × 10 × 0.7 = $1815.91.
    assert.equal(b.figures.collateral_nameplate_usd, 1815.91);
    assert.equal(b.covenants.units_online.value, 0.3333);
    // Coverage: 20 polls expected per rig; a answered 10 of its 20, b's board 10.
    assert.equal(byMac[macs.a!]!.polls_expected, 20);
    assert.equal(byMac[macs.a!]!.polls_ok, 10);
    assert.equal(byMac[macs.b!]!.polls_ok, 10);
    assert.deepEqual(b.coverage.site_gaps, []);
    // The day's money adds up to the period's.
    assert.equal(b.daily.length, 1);
    assert.ok(Math.abs(b.daily[0]!.revenue_usd! - b.figures.revenue_usd!) <= 0.01);
  });

  it('verifies offline, chains, re-runs byte-identical, and names a changed digit', async () => {
    const file = join(dir, 'r1.json');
    writeFileSync(file, report.bytes);
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, service.key.publicPem);
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const code = await main(argv, { out: (t) => out.push(t), err: (t) => out.push(t), env: {} });
      return { code, text: out.join('') };
    };
    assert.equal((await run('report', 'verify', file, '--key', keyFile)).code, 0);
    // Same closed period, same stored data → the same bytes.
    assert.equal(service.report('L1', T0, T0 + SWEEPS * STEP).bytes, report.bytes);
    // The next period chains onto it.
    const next = service.report('L1', T0 + SWEEPS * STEP, T0 + 2 * SWEEPS * STEP);
    assert.equal(next.doc.prev_hash, report.doc.hash);
    const nextFile = join(dir, 'r2.json');
    writeFileSync(nextFile, next.bytes);
    const chained = await run('report', 'verify', nextFile, '--key', keyFile, '--prev', file);
    assert.equal(chained.code, 0, chained.text);
    assert.match(chained.text, /chain ok/);
    assert.equal((await run('report', 'verify', file, '--key', keyFile, '--prev', nextFile)).code, 1);

    // One digit of the uptime figure changed.
    const v = report.doc.body.covenants.uptime.value!;
    const tampered = report.bytes
      .replace(`"uptime":{"bound":"min","breach_since"`, '§')
      .replace(/"trend":("\w+"|null),"value":0\.6667/, (m) => m.replace('0.6667', '0.9667'));
    assert.notEqual(tampered, report.bytes, String(v));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, tampered.replace('§', `"uptime":{"bound":"min","breach_since"`));
    const res = await run('report', 'verify', bad, '--key', keyFile);
    assert.equal(res.code, 1);
    assert.match(res.text, /field covenants\.uptime\.value differs/);
    assert.match(res.text, /signature does not verify|document hash/);
    // Another key: the signature fails even on the untouched file.
    const other = join(dir, 'other.pem');
    const { generateKeyPairSync } = await import('node:crypto');
    writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    assert.equal((await run('report', 'verify', file, '--key', other)).code, 1);
    const audit = await run('audit', 'verify', '--storage', dir);
    assert.equal(audit.code, 0, audit.text);
  });

  describe('lender page in headless Chromium', () => {
    let app: FastifyInstance;
    let browser: Browser;
    let base = '';
    let token = '';
    before(async () => {
      assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
      const tokens = new TokenStore(dir);
      token = tokens.create('lender', 'L1', 'e2e').token;
      app = buildApp({
        fleet: collector.fleet,
        history: collector.history,
        health: collector.health,
        config: validateConfig({ storage: { dir }, emulator: { mode: 'off' } }),
        tokens,
        loans: service,
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });
    after(async () => {
      await browser?.close();
      await app?.close();
    });

    it('shows the breached covenants and the missing rig first, and downloads the signed report', async () => {
      const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
      const failed: string[] = [];
      page.on('pageerror', (err) => failed.push(err.message));
      await page.goto(`${base}/loans/L1`);
      await page.fill('#token', token);
      await page.click('#login button');
      await page.locator('.card[data-covenant="uptime"]').waitFor();
      // The inputs are local time; pin the period to the run (a string, so no transpiled helper reaches the page).
      await page.evaluate(
        `for (const [sel, ms] of [['#from', ${T0}], ['#to', ${T0 + SWEEPS * STEP}]])
           document.querySelector(sel).value = new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);`,
      );
      await page.click('#reload');
      await page.waitForFunction(
        `document.querySelector('#period')?.textContent?.includes('2026-11-20T00:10:00.000Z')`,
      );
      assert.match((await page.textContent('.card[data-covenant="uptime"] .status')) ?? '', /breach/);
      assert.match(
        (await page.textContent('.card[data-covenant="performance_ratio"] .status')) ?? '',
        /breach/,
      );
      const first = page.locator('#pledges tbody tr').first();
      assert.equal(await first.getAttribute('class'), 'missing');
      assert.match((await first.textContent()) ?? '', new RegExp(macs.a!));
      assert.match(
        (await page.textContent('#unpledged tbody')) ?? '',
        new RegExp(rigs.c!.address.replace(/\./g, '\\.')),
      );
      assert.equal(await page.locator('#chart-rev svg rect').count(), 3); // one bar per pledged rig
      assert.equal(await page.locator('#chart-rev-day svg rect').count(), 1); // one day
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'lender-page.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: join(ARTIFACTS, 'lender-page-print.png'), fullPage: true });
      await page.emulateMedia({ media: 'screen' });

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-json')]);
      const saved = join(ARTIFACTS, 'lender-download.json');
      await download.saveAs(saved);
      const doc = JSON.parse(readFileSync(saved, 'utf8')) as SignedDoc<ReportBody>;
      assert.equal(doc.hash, report.doc.hash);
      const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
      const csvFile = join(ARTIFACTS, 'lender-download.csv');
      await csv.saveAs(csvFile);
      assert.match(readFileSync(csvFile, 'utf8'), new RegExp(`report_hash,${doc.hash}`));
      // The token never appears in the page address or storage other than this tab's sessionStorage.
      assert.ok(!page.url().includes(token));
      assert.deepEqual(failed, []);
    });
  });
});
