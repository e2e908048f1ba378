/**
 * The floor page in a real headless Chromium (Debian's, driven by playwright-core), served by the real API over a
 * real collector polling emulated rigs on loopback. One rig is made to refuse connections: the page must show it
 * offline, count it out of "rigs up", and find it with the "offline" filter.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { buildApp } from '../api/app.js';
import { silentLogger } from '../collector/journal.js';
import { type CollectorRuntime, startCollector, targetsFromConfig } from '../collector/runtime.js';
import { validateConfig } from '../config/load.js';
import { type EmulatedFleet, startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { driverFor } from '../protocols/registry.js';

const CHROMIUM = '/usr/bin/chromium';
const RIGS = 6;

let dir: string;
let fleet: EmulatedFleet;
let collector: CollectorRuntime;
let app: FastifyInstance;
let browser: Browser;
let base: string;
const down = 'emu-002';

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  dir = mkdtempSync(join(tmpdir(), 'rigtel-ui-'));
  fleet = await startEmulatedFleet({ count: RIGS, host: '127.0.0.1', basePort: 0, mix: 'antminer', seed: 3 });
  const config = validateConfig({
    site: { name: 'ui-test' },
    rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: 'antminer' })),
    storage: { dir, journal_fsync: 'off' },
    poll: { interval_ms: 60_000, poll_deadline_ms: 5000, connect_timeout_ms: 1000, command_timeout_ms: 3000 },
  });
  collector = await startCollector(config, targetsFromConfig(config), {
    log: silentLogger,
    driverFor,
    autoStart: false,
  });
  fleet.rigs.find((r) => r.name === down)!.setFault('refuse');
  await collector.sweepNow();
  app = buildApp({ fleet: collector.fleet, history: collector.history, health: collector.health, config });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  base = `http://127.0.0.1:${addr.port}`;
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
  await collector?.stop();
  await fleet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the floor page lists every rig, counts the refused one out and filters it as offline', async () => {
  const page = await browser.newPage();
  const failed: string[] = [];
  page.on('pageerror', (err) => failed.push(err.message));
  await page.goto(`${base}/`);
  await page
    .locator('#rigs tbody tr')
    .nth(RIGS - 1)
    .waitFor();
  assert.equal(await page.locator('#rigs tbody tr').count(), RIGS);

  assert.equal(await page.textContent('#t-up'), `${RIGS - 1} / ${RIGS}`);
  const hash = await page.textContent('#t-hash');
  assert.match(hash ?? '', /^\d+\.\d{2} TH\/s$/);
  assert.notEqual(hash, '0.00 TH/s');

  const downRow = page.locator(`#rigs tbody tr`, { hasText: down });
  assert.equal(await downRow.locator('.state').textContent(), 'offline');
  assert.match((await downRow.textContent()) ?? '', /RT_ERR_PROTO_CONNECT_REFUSED/);

  await page.selectOption('#filter', 'offline');
  const rows = page.locator('#rigs tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match((await rows.first().textContent()) ?? '', new RegExp(down));

  if (process.env.RIGTEL_UI_SCREENSHOT) {
    await page.selectOption('#filter', 'all');
    await page.screenshot({ path: process.env.RIGTEL_UI_SCREENSHOT, fullPage: true });
  }
  assert.deepEqual(failed, []);
});
