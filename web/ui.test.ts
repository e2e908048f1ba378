/// <reference lib="dom" />
/**
 * The floor page in a real headless Chromium (Debian's, driven by playwright-core), served by the real API over a
 * real collector polling emulated rigs on loopback, live over server-sent events. One rig refuses connections;
 * another sits behind a loopback TCP relay the test switches from a healthy S19 Pro to an overheated one (a real
 * captured `error` reply), so the page must follow a rig into `error` without a reload. Screenshots at 1280×800
 * and 768×1024 are saved under .tmp/artifacts/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildApp } from '../api/app.js';
import { AlertEngine } from '../collector/alerts.js';
import { silentLogger } from '../collector/journal.js';
import { rigNamesFromConfig } from '../collector/rig-names.js';
import { type CollectorRuntime, startCollector, targetsFromConfig } from '../collector/runtime.js';
import { validateConfig } from '../config/load.js';
import { type EmulatedFleet, startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { type EmulatedRig, startEmulatedRig } from '../protocols/emulator/server.js';
import { estimatePowerW } from '../protocols/models.js';
import { driverFor } from '../protocols/registry.js';

const CHROMIUM = '/usr/bin/chromium';
const AXE = new URL('../node_modules/axe-core/axe.min.js', import.meta.url).pathname;
const ARTIFACTS = new URL('../.tmp/artifacts/', import.meta.url).pathname;
const RIGS = 6;
const down = 'emu-002';
const flipper = 'flip-01';

let dir: string;
let fleet: EmulatedFleet;
let healthy: EmulatedRig;
let hot: EmulatedRig;
let relay: Server;
let relayTo: () => EmulatedRig;
const relayed = new Set<Socket>();
let collector: CollectorRuntime;
let app: FastifyInstance;
let browser: Browser;
let base: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'rigtel-ui-'));
  fleet = await startEmulatedFleet({ count: RIGS, host: '127.0.0.1', basePort: 0, mix: 'antminer', seed: 3 });
  healthy = await startEmulatedRig({
    personality: 'antminer-s19pro-cold',
    host: '127.0.0.1',
    port: 0,
    seed: 7,
  });
  hot = await startEmulatedRig({ personality: 'antminer-s19pro-hot', host: '127.0.0.1', port: 0, seed: 7 });
  relayTo = () => healthy;
  relay = createServer((client) => {
    const target = relayTo();
    const upstream = connect(target.port, '127.0.0.1');
    relayed.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      relayed.delete(client);
      relayed.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayPort = (relay.address() as { port: number }).port;

  const config = validateConfig({
    site: { name: 'ui-test' },
    rigs: [
      // Half the rigs placed in a rack; the rest are grouped by address.
      ...fleet.rigs.map((r, i) => ({
        name: r.name,
        address: r.address,
        family: 'antminer',
        ...(i < 3 ? { location: { row: 'A', rack: 'r01', slot: 3 - i } } : {}),
      })),
      {
        name: flipper,
        address: `127.0.0.1:${relayPort}`,
        family: 'antminer',
        location: { row: 'B', rack: 'r07', slot: 1 },
      },
    ],
    storage: { dir, journal_fsync: 'off' },
    poll: { interval_ms: 60_000, poll_deadline_ms: 5000, connect_timeout_ms: 1000, command_timeout_ms: 3000 },
    alerts: { min_duration_s: 0 },
  });
  collector = await startCollector(config, targetsFromConfig(config), {
    log: silentLogger,
    driverFor,
    estimatePowerW,
    autoStart: false,
  });
  const names = rigNamesFromConfig(config);
  const alerts = new AlertEngine(config.alerts, { describe: (s) => names(s.address) });
  collector.onSample((s) => alerts.observe(s));
  await fleet.rigs.find((r) => r.name === down)!.setFault('refuse');
  await collector.sweepNow();
  app = buildApp({
    fleet: collector.fleet,
    history: collector.history,
    health: collector.health,
    config,
    alerts: () => alerts.active(),
    onSample: (fn) => collector.onSample(fn),
    pollNow: (address) => collector.pollNow(address),
  });
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
  for (const s of relayed) s.destroy();
  await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
  await healthy?.close();
  await hot?.close();
  await fleet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openPage(width = 1280, height = 800): Promise<{ page: Page; errors: string[] }> {
  // bypassCSP lets the test inject axe-core; the page itself runs under the API's CSP.
  const context = await browser.newContext({ viewport: { width, height }, bypassCSP: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${base}/`);
  await page.locator('#map .cell').nth(RIGS).waitFor();
  return { page, errors };
}

const cell = (page: Page, name: string) => page.locator('#map .cell', { hasText: name });

test('the map shows every rig by rack (or address), the refused one offline, each state counted apart', async () => {
  const { page, errors } = await openPage();
  assert.equal(await page.locator('#map .cell').count(), RIGS + 1);
  const racks = await page.locator('#map .rack h3').allTextContents();
  assert.deepEqual(racks, [
    'ui-test · row A · rack r01 · 3 rigs',
    'ui-test · row B · rack r07 · 1 rig',
    'address 127.0.0.1 · 3 rigs',
  ]);
  // Ordered by slot within the rack: emu-003 is slot 1.
  const firstRack = await page.locator('#map .rack').first().locator('.c-name').allTextContents();
  assert.deepEqual(firstRack, ['emu-003', 'emu-002', 'emu-001']);

  const offline = cell(page, down);
  assert.match((await offline.textContent()) ?? '', /○ offline/);
  assert.equal(await offline.getAttribute('data-state'), 'offline');
  assert.equal(await page.textContent('#t-offline'), `1 / ${RIGS + 1}`);
  let counted = 0;
  for (const s of ['mining', 'error', 'offline', 'sleeping', 'curtailed', 'ramping']) {
    counted += Number(((await page.textContent(`#t-${s}`)) ?? '').split(' / ')[0]);
  }
  assert.equal(counted, RIGS + 1);
  // The refused rig's cause is in the list, and the alert names the rig as configured.
  const row = page.locator('#rigs tbody tr', { hasText: down });
  assert.match((await row.textContent()) ?? '', /RT_ERR_PROTO_CONNECT_REFUSED/);
  assert.match(
    (await page.textContent('#alerts')) ?? '',
    new RegExp(`critical ${down} does not answer \\(RT_ERR_PROTO_CONNECT_REFUSED\\)`),
  );
  // Power says what is metered and what is not.
  assert.match(
    (await page.textContent('#t-power-split')) ?? '',
    /kW (metered|miner-reported|estimated) \(\d+ rigs\)/,
  );

  // Colour by temperature: the words say hot or not, judged against the alert rule (95 °C by default).
  await page.selectOption('#metric', 'temp');
  assert.match((await page.textContent('#legend')) ?? '', /above 95 °C/);
  assert.match((await cell(page, 'emu-001').textContent()) ?? '', /°C/);
  // Sorting the list sets aria-sort on the column.
  await page.click('#rigs th[data-sort="temp"] button');
  assert.equal(await page.getAttribute('#rigs th[data-sort="temp"]', 'aria-sort'), 'ascending');
  assert.equal(await page.getAttribute('#rigs th[data-sort="name"]', 'aria-sort'), null);
  await page.screenshot({ path: join(ARTIFACTS, 'floor-1280x800.png'), fullPage: false });
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a rig moving to error changes its cell and the tiles without a reload', async () => {
  const { page, errors } = await openPage();
  await page.evaluate(() => {
    (window as unknown as { sameDocument: boolean }).sameDocument = true;
  });
  assert.equal(await cell(page, flipper).getAttribute('data-state'), 'mining');
  const errorsBefore = Number(((await page.textContent('#t-error')) ?? '').split(' / ')[0]);

  relayTo = () => hot;
  await collector.sweepNow();
  await page.waitForFunction(
    (name) =>
      [...document.querySelectorAll('#map .cell')].some(
        (c) => c.textContent?.includes(name) && (c as HTMLElement).dataset.state === 'error',
      ),
    flipper,
    { timeout: 10_000 },
  );
  assert.match((await cell(page, flipper).textContent()) ?? '', /✕ error/);
  assert.equal(Number(((await page.textContent('#t-error')) ?? '').split(' / ')[0]), errorsBefore + 1);
  assert.equal(
    await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument),
    true,
  );
  relayTo = () => healthy;
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('rig detail opens from the keyboard, shows identity and power, polls now, and closes back to the cell', async () => {
  const { page, errors } = await openPage();
  await page.locator('#map .cell').first().focus();
  await page.keyboard.press('ArrowRight');
  const focused = await page.evaluate(() => document.activeElement?.querySelector('.c-name')?.textContent);
  assert.equal(focused, 'emu-002');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Enter');
  await page.locator('#detail[open]').waitFor();
  assert.equal(await page.textContent('#d-title'), 'emu-003');
  await page.locator('#d-body dl').first().waitFor();
  const body = (await page.textContent('#d-body')) ?? '';
  assert.match(body, /makeBitmain/);
  assert.match(body, /locationui-test · row A · rack r01 · slot 1/);
  assert.match(body, /power\d+ W (metered|miner-reported|estimated)/);
  await page.locator('#d-body .spark').first().waitFor();
  assert.equal(await page.locator('#d-body .spark svg').count(), 3);

  await page.click('#d-poll');
  await page.waitForFunction(
    () => /polled at .*: mining/.test(document.getElementById('d-poll-result')?.textContent ?? ''),
    null,
    {
      timeout: 10_000,
    },
  );
  await page.keyboard.press('Escape');
  await page.locator('#detail:not([open])').waitFor({ state: 'attached' });
  assert.equal(
    await page.evaluate(() => document.activeElement?.querySelector('.c-name')?.textContent),
    'emu-003',
  );
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('768×1024: no sideways scroll; axe finds no contrast or label violations', async () => {
  for (const [width, height] of [
    [768, 1024],
    [1280, 800],
  ] as const) {
    const { page, errors } = await openPage(width, height);
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(widths[0]! <= widths[1]!, `${width}px: page is ${widths[0]} px wide`);
    if (width === 768) await page.screenshot({ path: join(ARTIFACTS, 'floor-768x1024.png'), fullPage: true });
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<unknown> } })
        .axe;
      const r = (await axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] },
      })) as { violations: Array<{ id: string; nodes: Array<{ target: string[] }> }> };
      return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(result, [], `${width}px`);
    assert.deepEqual(errors, []);
    await page.context().close();
  }
});

test('when the stream drops, the top of the page says the data is stale and since when', async () => {
  const { page } = await openPage();
  assert.equal(await page.locator('#stale').isHidden(), true);
  await app.close();
  await page.locator('#stale').waitFor({ state: 'visible', timeout: 10_000 });
  assert.match((await page.textContent('#stale')) ?? '', /Data is stale since \d/);
  assert.match((await page.textContent('#live')) ?? '', /^stale since/);
  // The banner is at the top of the page, above the tiles.
  const [bannerTop, tilesTop] = await page.evaluate(() => [
    document.getElementById('stale')!.getBoundingClientRect().top,
    document.getElementById('tiles')!.getBoundingClientRect().top,
  ]);
  assert.ok(bannerTop! < tilesTop!);
  await page.context().close();
});
