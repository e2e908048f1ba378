/**
 * Loans in a standalone `rigtel api`: two hours of polls of four rigs go through the real Influx sink into a real
 * influxd, their live states through the real MQTT sink to the real Mosquitto on 127.0.0.1:1883 (a prefix of
 * this run's own, nothing left retained), and `rigtel api` with two loans serves them. A lender's token sees its
 * loan, its live pledged-vs-seen from MQTT and a signed report that verifies with /v1/keys, whose figures are the
 * ones written (by hand arithmetic below); another lender's token does not see it. Without sinks.influx the loan
 * routes answer RT_ERR_LOAN_UNAVAILABLE.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TokenStore } from '../api/tokens.js';
import { InfluxSink } from '../collector/sinks/influx.js';
import { MqttSink } from '../collector/sinks/mqtt.js';
import { influxSinkSchema, mqttSinkSchema } from '../config/sections/sinks.js';
import { InfluxLoanSource } from '../loans/influx-source.js';
import type { ReportBody } from '../loans/report.js';
import { type SignedDoc, verifyDoc } from '../loans/signed.js';
import type { Sample } from '../protocols/sample.js';
import { captureIo } from '../testing/capture-io.js';
import { freePort, type Influxd, startInfluxd } from '../testing/influxd.js';
import { clearRetained } from '../testing/mqtt-retained.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { apiCommand } from './api.js';

const BROKER = 'mqtt://127.0.0.1:1883';
const PREFIX = `rigtel-loans-${process.pid}-${Date.now().toString(36)}`;
const SITE = 'loan-site';
const HOUR = 3_600_000;
const INTERVAL = 30_000;
const PER_HOUR = HOUR / INTERVAL;
/** Two whole hours, closed: they ended an hour before now. */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const T1 = T0 + 2 * HOUR;
const RIG = {
  a: 'aa:bb:cc:00:10:01',
  b: 'aa:bb:cc:00:10:02',
  c: 'aa:bb:cc:00:10:03',
  d: 'aa:bb:cc:00:10:04',
} as const;
const MODEL = 'Antminer S19 Pro';
/** Per rig: TH/s and W while answering. b fails 30 polls in the second hour (polls 150…179). */
const FIG = { a: [100, 3000], b: [90, 3200], c: [80, 2800], d: [95, 3100] } as const;
const FAILS = (k: string, i: number) => k === 'b' && i >= 150 && i < 180;

function sample(k: keyof typeof RIG, at: number): Sample {
  const base = makeSample(RIG[k], at, {}, SITE);
  return {
    ...base,
    identity: { ...base.identity, mac: RIG[k].toUpperCase(), model: MODEL },
    hashrate_hs: FIG[k][0] * 1e12,
    power_w: FIG[k][1],
    address: `10.0.0.${Object.keys(RIG).indexOf(k) + 10}:4028`,
  };
}

const pledge = (k: keyof typeof RIG) => ({
  mac: RIG[k],
  model: MODEL,
  nominal_ths: 110,
  nominal_w: 3250,
  // A serial the polls never carry (neither InfluxDB nor MQTT state has serials): matched by MAC alone.
  serial: `SN-${k}`,
});
const facility = (id: string, lender: string, keys: (keyof typeof RIG)[]) => ({
  id,
  lender,
  principal_usd: 50_000,
  rate_apr: 0,
  start: '2026-01-01',
  schedule: [{ due: '2030-01-01', principal_usd: 50_000, interest_usd: 0 }],
  pledges: keys.map(pledge),
  collateral: {
    tiers: [{ label: 'all', max_j_per_th: null, usd_per_th: 10 }],
    marked_on: '2026-01-01',
    source: 'test',
    haircut: 0,
  },
  covenants: { min_uptime: { threshold: 0.8 }, min_performance_ratio: { threshold: 0.9 } },
});

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

let influxd: Influxd;
let dir: string;
const influx = () =>
  influxSinkSchema.parse({ url: influxd.url, database: 'rt_loans', flush_interval_ms: 0, timeout_ms: 5000 });
const mqttCfg = () => mqttSinkSchema.parse({ url: BROKER, topic_prefix: PREFIX });

before(async () => {
  influxd = await startInfluxd();
  dir = mkdtempSync(join(tmpdir(), 'rigtel-api-loans-'));
  const sink = new InfluxSink(influx());
  await sink.open();
  let seq = 1;
  for (const k of Object.keys(RIG) as (keyof typeof RIG)[]) {
    const batch = [];
    for (let i = 0; i < 2 * PER_HOUR; i++) {
      const at = T0 + i * INTERVAL;
      batch.push({ seq: seq++, sample: FAILS(k, i) ? offlineSample(RIG[k], at, SITE) : sample(k, at) });
    }
    await sink.write(batch);
  }
  await sink.close();
});

after(async () => {
  // Leave nothing retained on the shared broker.
  await clearRetained(BROKER, PREFIX);
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rigtel api serves loans from InfluxDB and MQTT', () => {
  test('a lender sees its own loan, live and in a signed report of the written figures; not another', async () => {
    const storage = join(dir, 'api');
    const tokens = new TokenStore(storage);
    const lender1 = tokens.create('lender', 'L1', 'bank one').token;
    const lender2 = tokens.create('lender', 'L2', 'bank two').token;
    const port = await freePort();
    const cfgFile = join(dir, 'api.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        site: { name: SITE },
        storage: { dir: storage },
        poll: { interval_ms: INTERVAL },
        api: { listen: `127.0.0.1:${port}` },
        sinks: { mqtt: { url: BROKER, topic_prefix: PREFIX }, influx: influx() },
        economics: { tariff: { usd_per_kwh: 0.05 } },
        loans: {
          market: [
            {
              at: new Date(T0 - 24 * HOUR).toISOString(),
              btc_usd: 100_000,
              difficulty: 150e12,
              fees_btc_per_block: 0,
              subsidy_btc: 3.125,
              source: 'fixed for the test',
            },
          ],
          facilities: [facility('L1', 'Bank One', ['a', 'b']), facility('L2', 'Bank Two', ['c'])],
        },
      }),
    );
    const abort = new AbortController();
    const io = captureIo();
    const running = apiCommand({ configFile: cfgFile, io, signal: abort.signal });
    const base = `http://127.0.0.1:${port}`;
    const get = (path: string, token: string) =>
      fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
    const live = new MqttSink(mqttCfg(), { site: SITE });
    try {
      await waitFor('the API', async () => io.text.includes('Ctrl-C'));
      assert.match(io.text, /loans {4}2 facilities from InfluxDB/);

      // Live states through the real MQTT sink: every rig answers now.
      await live.open();
      const now = Date.now();
      await live.write(
        (Object.keys(RIG) as (keyof typeof RIG)[]).map((k, i) => ({ seq: i + 1, sample: sample(k, now) })),
      );
      type Live = {
        id: string;
        lender: string;
        covenants: Record<string, unknown>;
        pledged: { key: string; status: string; rig_id: string | null; address: string | null }[];
        unpledged: { rig_id: string }[];
      };
      let mine: Live | undefined;
      await waitFor('the pledges seen over MQTT', async () => {
        const res = await get('/v1/loans/L1', lender1);
        assert.equal(res.status, 200);
        mine = (await res.json()) as Live;
        return mine.pledged.every((p) => p.status === 'seen');
      });
      assert.equal(mine!.lender, 'Bank One');
      assert.deepEqual(Object.keys(mine!.covenants).sort(), ['min_performance_ratio', 'min_uptime']);
      assert.deepEqual(mine!.pledged.map((p) => [p.rig_id, p.address]).sort(), [
        [RIG.a, '10.0.0.10:4028'],
        [RIG.b, '10.0.0.11:4028'],
      ]);
      // c is another loan's, d nobody's: both answer at the site unpledged to L1.
      assert.deepEqual(mine!.unpledged.map((u) => u.rig_id).sort(), [RIG.c, RIG.d]);

      // The lender's list has its loan only; the other loan does not exist for it, nor its report.
      const list = (await (await get('/v1/loans', lender1)).json()) as { loans: { id: string }[] };
      assert.deepEqual(
        list.loans.map((l) => l.id),
        ['L1'],
      );
      for (const path of ['/v1/loans/L2', '/v1/loans/L2/report', '/v1/loans/L2/rollups']) {
        const res = await get(path, lender1);
        assert.equal(res.status, 404, path);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'RT_ERR_LOAN_NOT_FOUND');
      }
      const other = await get('/v1/loans/L1/report', lender2);
      assert.equal(other.status, 404);
      const theirs = (await (await get('/v1/loans', lender2)).json()) as { loans: { id: string }[] };
      assert.deepEqual(
        theirs.loans.map((l) => l.id),
        ['L2'],
      );

      // The signed report of the two written hours, checked with the key the API publishes.
      const period = `from=${new Date(T0).toISOString()}&to=${new Date(T1).toISOString()}`;
      const res = await get(`/v1/loans/L1/report?${period}`, lender1);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const doc = JSON.parse(text) as SignedDoc<ReportBody>;
      const keys = (await (await get('/v1/keys', lender1)).json()) as { keys: { public_key: string }[] };
      const verified = verifyDoc(doc, { publicPem: keys.keys[0]!.public_key });
      assert.equal(verified.ok, true, verified.problems.join('; '));
      const tampered = structuredClone(doc);
      tampered.body.rigs[0]!.polls_ok = 1;
      assert.equal(verifyDoc(tampered, { publicPem: keys.keys[0]!.public_key }).ok, false);

      const b = doc.body;
      assert.equal(b.loan.id, 'L1');
      assert.equal(b.period.closed, true);
      // Every figure carries its source: InfluxDB, with the estimated ones named.
      assert.equal(b.data_source?.store, 'influxdb');
      assert.ok(b.data_source!.estimated.includes('figures.energy_kwh'));
      assert.ok(b.data_source!.measured.includes('rigs[].polls_ok'));
      const rig = Object.fromEntries(b.rigs.map((r) => [r.rig_id, r]));
      // a: 240 polls, all answered at 100 TH/s and 3000 W → 100 TH/s, uptime 1, 6 kWh, 30 J/TH.
      assert.equal(rig[RIG.a]!.status, 'seen');
      assert.equal(rig[RIG.a]!.polls, 240);
      assert.equal(rig[RIG.a]!.polls_ok, 240);
      assert.equal(rig[RIG.a]!.measured_ths, 100);
      assert.equal(rig[RIG.a]!.uptime, 1);
      assert.equal(rig[RIG.a]!.energy_kwh, 6);
      assert.equal(rig[RIG.a]!.j_per_th, 30);
      // b: 30 of its 240 polls failed → 210 × 30 s = 6300 s of 7200 at 90 TH/s → 78.75 TH/s, uptime 0.875;
      // 3200 W × 6300 s = 5.6 kWh.
      assert.equal(rig[RIG.b]!.status, 'seen');
      assert.equal(rig[RIG.b]!.polls, 240);
      assert.equal(rig[RIG.b]!.polls_ok, 210);
      assert.equal(rig[RIG.b]!.measured_ths, 78.75);
      assert.equal(rig[RIG.b]!.uptime, 0.875);
      assert.equal(rig[RIG.b]!.energy_kwh, 5.6);
      assert.equal(b.figures.energy_kwh, 11.6);
      assert.equal(b.figures.measured_ths, 178.75);
      // Covenants: uptime (7200 + 6300) / 14 400 = 0.9375 (every day's ≥ 0.8: pass, whether or not the two hours
      // straddle midnight); performance (100 + 78.75) / 220 = 0.8125 (< 0.9: breach).
      assert.equal(b.covenants.uptime.value, 0.9375);
      assert.equal(b.covenants.uptime.status, 'pass');
      assert.equal(b.covenants.performance_ratio.value, 0.8125);
      assert.equal(b.covenants.performance_ratio.status, 'breach');
      assert.equal(b.covenants.units_online.value, 1);
      // The reconcile window replayed the 4 × 240 polls from InfluxDB; c and d are unpledged there too.
      assert.equal(b.reconciliation.window.samples, 960);
      assert.deepEqual(b.reconciliation.unpledged.map((u) => u.rig_id).sort(), [RIG.c, RIG.d]);
      assert.deepEqual(b.coverage.site_gaps, []);
      // Revenue: 178.75 TH/s for 2 h at $100k, 150e12 difficulty, 3.125 BTC a block.
      const btc = (178.75e12 * 7200 * 3.125) / (150e12 * 2 ** 32);
      assert.ok(Math.abs(b.figures.revenue_usd! - btc * 100_000) <= 0.01, `${b.figures.revenue_usd}`);

      // Same closed period, same data: the same bytes (the chain keeps its place).
      const again = await (await get(`/v1/loans/L1/report?${period}`, lender1)).text();
      assert.equal(again, text);
      // The CSV says where its figures come from.
      const csv = await (await get(`/v1/loans/L1/report?${period}&format=csv`, lender1)).text();
      assert.match(csv, /^data_source,influxdb,/m);

      // The signed rollups: the hours InfluxDB aggregated for the pledged rigs.
      const rolls = await get(`/v1/loans/L1/rollups?${period}`, lender1);
      assert.equal(rolls.status, 200);
      const rdoc = JSON.parse(await rolls.text()) as SignedDoc<{
        data_source?: { store: string };
        rigs: { rig_id: string; hours: { hour_ms: number; polls: number; polls_ok: number }[] }[];
      }>;
      assert.equal(verifyDoc(rdoc, { publicPem: keys.keys[0]!.public_key }).ok, true);
      assert.equal(rdoc.body.data_source?.store, 'influxdb');
      const bHours = rdoc.body.rigs.find((r) => r.rig_id === RIG.b)!.hours;
      assert.deepEqual(
        bHours.map((h) => [h.hour_ms, h.polls, h.polls_ok]),
        [
          [T0, 120, 120],
          [T0 + HOUR, 120, 90],
        ],
      );
      for (const t of [lender1, lender2]) assert.ok(!text.includes(t) && !io.text.includes(t));
    } finally {
      await live.close();
      abort.abort();
      assert.equal(await running, 0);
    }
  });

  test('a period too long for one InfluxDB read is a loan period error (400), not an economics one', async () => {
    const source = new InfluxLoanSource({ influx: influx(), intervalMs: INTERVAL, rigCount: () => 1_000 });
    await assert.rejects(
      source.hours(T1 - 60 * 24 * HOUR, T1),
      (err: Error & { code?: string; httpStatus?: number }) => {
        assert.equal(err.code, 'RT_ERR_LOAN_BAD_PERIOD');
        assert.equal(err.httpStatus, 400);
        assert.match(err.message, /rig-hours/);
        return true;
      },
    );
    // A period it can read answers.
    const hours = await source.hours(T0, T1);
    assert.equal(hours.rollups(RIG.a).length, 2);
  });

  test('without sinks.influx the loan routes answer 501 RT_ERR_LOAN_UNAVAILABLE', async () => {
    const port = await freePort();
    const cfgFile = join(dir, 'api-no-influx.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        site: { name: SITE },
        storage: { dir: join(dir, 'no-influx') },
        api: { listen: `127.0.0.1:${port}` },
        sinks: { mqtt: { url: BROKER, topic_prefix: PREFIX } },
        loans: { facilities: [facility('L1', 'Bank One', ['a'])] },
      }),
    );
    const abort = new AbortController();
    const io = captureIo();
    const running = apiCommand({ configFile: cfgFile, io, signal: abort.signal });
    try {
      await waitFor('the API', async () => io.text.includes('Ctrl-C'));
      assert.match(io.text, /loans {4}not served \(configure sinks\.influx\)/);
      for (const path of ['/v1/loans', '/v1/loans/L1', '/v1/loans/L1/report', '/v1/keys']) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 501, path);
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'RT_ERR_LOAN_UNAVAILABLE');
        assert.match(body.error.message, /sinks\.influx/);
      }
    } finally {
      abort.abort();
      assert.equal(await running, 0);
    }
  });
});
