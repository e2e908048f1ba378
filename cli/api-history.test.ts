/**
 * History from InfluxDB (a standalone `rigtel api`) against the embedded store (`rigtel run`): the same samples go
 * through the real Influx sink into a real influxd and into a real embedded store, then both are asked the same
 * questions. Raw ranges must answer identically; long (aggregated) ranges identically for polls, means, source and
 * temperature, and closely for energy and mining seconds. Hostile rig ids, wrong credentials and a stopped influxd
 * end in named errors, and the API keeps answering.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../api/app.js';
import { economicsSettings, marketFromConfig } from '../collector/economics/wiring.js';
import { InfluxHistory, RAW_MAX_POLLS } from '../collector/influx-history.js';
import { InfluxRollups } from '../collector/influx-rollups.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import { InfluxSink } from '../collector/sinks/influx.js';
import type { HistoryPoint, HistoryQuery } from '../collector/views.js';
import { loadConfig } from '../config/load.js';
import { influxSinkSchema } from '../config/sections/sinks.js';
import type { Logger } from '../lib/log.js';
import type { Sample } from '../protocols/sample.js';
import { captureIo } from '../testing/capture-io.js';
import { freePort, type Influxd, startInfluxd } from '../testing/influxd.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { apiCommand } from './api.js';

const INTERVAL = 15_000;
const BACKOFF = 60_000;
const caps = { intervalMs: INTERVAL, backoffMaxMs: BACKOFF };
/** Not on a round minute, so bucket edges fall between polls. */
const T0 = Date.UTC(2026, 10, 20, 6, 0, 7_123);
const POLLS = 720; // three hours at 15 s
const END = T0 + POLLS * INTERVAL;
const PASSWORD = 'pw-h1-Secret-9';
/** A real rig id with every character InfluxQL and line protocol care about (no trailing backslash: not a tag). */
const ODD_ID = `o'brien, "rig"=\\x $rig`;
const RIG = 'aa:bb:cc:00:00:01';

/** One rig's three hours: mining, failures, a long gap, sleeping at 0 W/H, ramping, source changes, no power. */
function samples(rigId: string): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < POLLS; i++) {
    const at = T0 + i * INTERVAL + ((i * 37) % 900);
    if (i >= 200 && i < 260) continue; // 15 minutes without polls: a gap, never integrated
    if (i >= 100 && i < 110) {
      if (i % 2 === 0) out.push(offlineSample(rigId, at)); // failed polls, backoff between them
      continue;
    }
    const o: Partial<Sample> = {
      hashrate_hs: 110e12 + (i % 13) * 1e11,
      power_w: 3200 + (i % 7) * 10.5,
      temp_chip_max_c: 70 + (i % 11) * 0.7,
    };
    if (i >= 300 && i < 330)
      Object.assign(o, { state: 'sleeping', hashrate_hs: 0, power_w: 12, power_source: 'estimate' });
    if (i >= 330 && i < 340) Object.assign(o, { state: 'ramping', hashrate_hs: 50e12 });
    if (i >= 400 && i < 450) Object.assign(o, { power_source: 'miner' });
    if (i >= 450 && i < 460) Object.assign(o, { power_w: null, power_source: null });
    if (i >= 500 && i < 510) Object.assign(o, { state: 'sleeping', hashrate_hs: 3e12 }); // leftover figure
    if (i >= 600 && i < 610) Object.assign(o, { temp_chip_max_c: null });
    out.push(makeSample(rigId, at, o));
  }
  return out;
}

class MemLog implements Logger {
  lines: string[] = [];
  warn(obj: object, msg?: string): void {
    this.lines.push(JSON.stringify(obj) + (msg ?? ''));
  }
  debug(): void {}
  info(): void {}
  error(obj: object, msg?: string): void {
    this.warn(obj, msg);
  }
}

let influxd: Influxd;
let dir: string;
let store: EmbeddedStore;
const influx = () =>
  influxSinkSchema.parse({
    url: influxd.url,
    database: 'rt_history',
    measurement_prefix: 'rt_',
    retention_policy: 'hist',
    username: 'rigtel',
    password: PASSWORD,
    flush_interval_ms: 0,
    timeout_ms: 2000,
  });

before(async () => {
  influxd = await startInfluxd({ auth: true });
  const created = await fetch(
    `${influxd.url}/query?q=${encodeURIComponent(`CREATE USER rigtel WITH PASSWORD '${PASSWORD}' WITH ALL PRIVILEGES`)}`,
    { method: 'POST' },
  );
  assert.equal(created.status, 200);
  dir = mkdtempSync(join(tmpdir(), 'rigtel-h1-'));
  store = EmbeddedStore.open(dir, {
    rawRetentionHours: 24 * 400,
    rollupRetentionDays: 400,
    intervalMs: INTERVAL,
    backoffMaxMs: BACKOFF,
    now: () => END + 3_600_000,
  });
  const sink = new InfluxSink(influx());
  await sink.open();
  let seq = 1;
  for (const rig of [RIG, ODD_ID]) {
    const batch = samples(rig).map((sample) => ({ seq: seq++, sample }));
    await sink.write(batch);
    await store.write(batch);
  }
  await sink.close();
});

after(async () => {
  store?.close();
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const reader = (log?: Logger) => new InfluxHistory({ influx: influx(), caps, ...(log ? { log } : {}) });

describe('history from InfluxDB', () => {
  test('raw ranges: the same buckets as the embedded store, gaps and empty buckets included', async () => {
    const h = reader();
    const queries: HistoryQuery[] = [
      { rigId: RIG, fromMs: T0 - 3_600_000, toMs: END + 3_600_000, stepS: 300 },
      { rigId: RIG, fromMs: T0, toMs: END, stepS: 60 },
      { rigId: RIG, fromMs: T0 + 12_345, toMs: END - 999, stepS: 420 },
      { rigId: RIG, fromMs: Math.floor(T0 / 3_600_000) * 3_600_000, toMs: END + 7_200_000, stepS: 3600 },
      { rigId: ODD_ID, fromMs: T0 - 600_000, toMs: END, stepS: 900 },
    ];
    for (const q of queries) {
      const want = store.history(q);
      const got = await h.history(q);
      assert.deepEqual(got, want, `${q.rigId} step ${q.stepS}`);
      // The data covers the gap, failures, an hour before and after: every kind of bucket is there.
      assert.ok(got.some((p) => p.polls === 0 && p.hashrate_hs === null && p.energy_wh === null));
      assert.ok(got.some((p) => p.polls > 0));
    }
    const fine = await h.history(queries[1]!);
    assert.ok(
      fine.some((p) => p.polls > 0 && p.polls_ok === 0 && p.hashrate_hs === null),
      'failed polls only',
    );
    assert.ok(
      fine.some((p) => p.polls_ok > 0 && p.hashrate_hs === 0),
      'sleeping at 0 H/s is 0, not missing',
    );
    assert.ok(
      fine.some((p) => p.power_source === 'miner') && fine.some((p) => p.power_source === 'estimate'),
    );
  });

  test('long ranges are aggregated by InfluxDB: same polls and means, energy and mining seconds close', async () => {
    // Far more polls than the raw bound: four days before the data.
    const q: HistoryQuery = { rigId: RIG, fromMs: T0 - 4 * 86_400_000, toMs: END + 3_600_000, stepS: 3600 };
    assert.ok((q.toMs - q.fromMs) / INTERVAL > RAW_MAX_POLLS);
    const want = store.history(q);
    const got = await reader().history(q);
    assert.equal(got.length, want.length);
    const close = (a: number | null, b: number | null, rel: number, what: string) => {
      if (a === null || b === null) return assert.equal(a, b, what);
      assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-9), `${what}: ${a} vs ${b}`);
    };
    for (let i = 0; i < want.length; i++) {
      const [g, w] = [got[i]!, want[i]!] as [HistoryPoint, HistoryPoint];
      const at = new Date(w.t_ms).toISOString();
      assert.equal(g.t_ms, w.t_ms);
      assert.equal(g.polls, w.polls, `polls ${at}`);
      assert.equal(g.polls_ok, w.polls_ok, `polls_ok ${at}`);
      assert.equal(g.power_source, w.power_source, `source ${at}`);
      assert.equal(g.temp_chip_max_c, w.temp_chip_max_c, `temp ${at}`);
      close(g.hashrate_hs, w.hashrate_hs, 1e-9, `hashrate ${at}`);
      close(g.power_w, w.power_w, 1e-9, `power ${at}`);
      // Estimated as each answered poll holding one interval; the embedded store integrates between polls.
      close(g.energy_wh, w.energy_wh, 0.03, `energy ${at}`);
      close(g.mining_s, w.mining_s, 0.03, `mining_s ${at}`);
    }
    assert.ok(got.filter((p) => p.polls === 0).length >= 96, 'the empty days stay empty (no fill with 0)');
    assert.ok(got.every((p) => p.polls > 0 || (p.power_w === null && p.energy_wh === null)));
  });

  test('hourly rollups for economics: same polls and means as the embedded store, time figures close', async () => {
    const loaded = await new InfluxRollups({ influx: influx(), intervalMs: INTERVAL }).load(
      T0 - 3_600_000,
      END,
    );
    assert.deepEqual(loaded.rigIds(), [RIG, ODD_ID].sort());
    const worst = { energy: 0, seconds: 0 };
    for (const rig of [RIG, ODD_ID]) {
      const want = store.rollups(rig, T0 - 3_600_000, END);
      const got = loaded.rollups(rig, T0 - 3_600_000, END);
      assert.deepEqual(
        got.map((r) => r.hour_ms),
        want.map((r) => r.hour_ms),
      );
      for (let i = 0; i < want.length; i++) {
        const [g, w] = [got[i]!, want[i]!];
        const at = `${rig} ${new Date(w.hour_ms).toISOString()}`;
        assert.equal(g.polls, w.polls, at);
        assert.equal(g.polls_ok, w.polls_ok, at);
        assert.equal(g.power_source, w.power_source, at);
        assert.equal(g.temp_chip_max_c, w.temp_chip_max_c, at);
        for (const k of ['hashrate_hs', 'power_w'] as const) {
          const [x, y] = [g[k], w[k]];
          assert.ok(
            x === y || (x !== null && y !== null && Math.abs(x - y) <= 1e-9 * Math.abs(y)),
            `${k} ${at}`,
          );
        }
        assert.equal(g.energy_wh === null, w.energy_wh === null, at);
        // A rig's first and last hours get a whole interval per poll where the store splits it at the hour edge.
        const edge = (2 * INTERVAL * (w.power_w ?? 0)) / 3_600_000;
        if (g.energy_wh !== null && w.energy_wh !== null)
          worst.energy = Math.max(
            worst.energy,
            Math.max(0, Math.abs(g.energy_wh - w.energy_wh) - edge) / w.energy_wh,
          );
        for (const k of ['mining_s', 'curtailed_s', 'covered_s'] as const)
          worst.seconds = Math.max(worst.seconds, Math.abs(g[k] - w[k]));
      }
    }
    // Estimated as each poll holding one interval: within 3 % of the integrated energy (beyond two intervals'
    // worth at an hour edge), and 5 minutes of an hour (failed polls are further apart than one interval).
    assert.ok(worst.energy <= 0.03, `energy off by ${worst.energy}`);
    assert.ok(worst.seconds <= 300, `seconds off by ${worst.seconds}`);
  });

  test('hostile rig ids are parameters, never InfluxQL: nothing found, nothing leaked, no error', async () => {
    const h = reader();
    const q = { fromMs: T0, toMs: END, stepS: 3600 };
    assert.equal(await h.hasRig(RIG), true);
    assert.equal(await h.hasRig(ODD_ID), true);
    for (const id of [
      `x' OR "rig" =~ /.*/ --`,
      `${RIG}' OR 1=1`,
      `"; DROP DATABASE "rt_history`,
      'a\nb',
      '\\',
      '$rig',
      'x'.repeat(5000),
    ]) {
      assert.equal(await h.hasRig(id), false, id.slice(0, 40));
      const points = await h.history({ rigId: id, ...q });
      assert.ok(
        points.every((p) => p.polls === 0 && p.hashrate_hs === null),
        id.slice(0, 40),
      );
    }
    // The database is still there.
    assert.ok((await h.history({ rigId: RIG, ...q })).some((p) => p.polls > 0));
  });

  test('an InfluxDB that accepts and never answers: 503 after sinks.influx.timeout_ms', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const h = new InfluxHistory({
        influx: { ...influx(), url: `http://127.0.0.1:${port}`, timeout_ms: 300 },
        caps,
      });
      await assert.rejects(
        h.history({ rigId: RIG, fromMs: T0, toMs: END, stepS: 3600 }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'RT_ERR_API_HISTORY_BACKEND');
          assert.match(e.message, /timed out after 300 ms/);
          assert.ok(!e.message.includes(PASSWORD));
          return true;
        },
      );
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('wrong password: 502 named error without the password', async () => {
    const log = new MemLog();
    const h = new InfluxHistory({
      influx: {
        ...influx(),
        password: influxSinkSchema.parse({ username: 'u', password: 'wrong-Pw-77' }).password!,
      },
      caps,
      log,
    });
    const err = await h.history({ rigId: RIG, fromMs: T0, toMs: END, stepS: 3600 }).then(
      () => assert.fail('should fail'),
      (e: unknown) => e as { code: string; message: string; httpStatus: number },
    );
    assert.equal(err.code, 'RT_ERR_API_HISTORY_BACKEND_REFUSED');
    assert.equal(err.httpStatus, 502);
    assert.ok(!err.message.includes('wrong-Pw-77') && !log.lines.join('').includes('wrong-Pw-77'));
  });

  test('through `rigtel api`: the embedded store’s reply, byte for byte; influxd down → 503, the API stays up', async () => {
    const port = await freePort();
    const cfgFile = join(dir, 'api.json');
    const raw = {
      site: { name: 'h1-history' },
      storage: { dir },
      api: { listen: `127.0.0.1:${port}` },
      poll: { interval_ms: INTERVAL, backoff_max_ms: BACKOFF, poll_deadline_ms: 10_000 },
      rigs: [{ name: 'configured-rig', address: '127.0.0.1:1' }],
      sinks: {
        mqtt: { url: 'mqtt://127.0.0.1:1883', topic_prefix: `rigtel-h1-${process.pid}` },
        influx: {
          url: influxd.url,
          database: 'rt_history',
          measurement_prefix: 'rt_',
          retention_policy: 'hist',
          username: 'rigtel',
          password: PASSWORD,
          timeout_ms: 2000,
        },
      },
    };
    writeFileSync(cfgFile, JSON.stringify(raw));
    const abort = new AbortController();
    const io = captureIo();
    const running = apiCommand({ configFile: cfgFile, io, signal: abort.signal });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !io.text.includes('Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(io.text, /history {2}InfluxDB 127\.0\.0\.1:\d+, database rt_history/);

    // The same routes over the embedded store, as `rigtel run` serves them (its market store in a dir of its own).
    const localMarket = marketFromConfig({
      ...loadConfig(cfgFile, {}),
      storage: { ...loadConfig(cfgFile, {}).storage, dir: mkdtempSync(join(tmpdir(), 'rigtel-h1-market-')) },
    });
    const local = buildApp({
      economics: {
        market: localMarket,
        rollups: store,
        settings: economicsSettings(loadConfig(cfgFile, {}), INTERVAL),
        meta: () => ({ model: null, rack: null }),
      },
      fleet: { list: () => [], get: () => undefined },
      history: store,
      health: {
        started_ms: 0,
        sinks: () => [],
        polling: () => ({ rigs: 0, up: 0, last_sweep_ms: null, last_sweep_duration_ms: null }),
      },
      config: loadConfig(cfgFile, {}),
    });
    try {
      const from = new Date(T0 - 1_800_000).toISOString();
      const to = new Date(END + 1_800_000).toISOString();
      for (const [id, step] of [
        [RIG, '5m'],
        [RIG, '1h'],
        [ODD_ID, '15m'],
      ] as const) {
        const path = `/v1/rigs/${encodeURIComponent(id)}/history?from=${from}&to=${to}&step=${step}`;
        const res = await fetch(base + path);
        const body = await res.text();
        assert.equal(res.status, 200, body);
        const want = await local.inject(path);
        assert.equal(want.statusCode, 200);
        assert.equal(body, want.body, path);
      }
      const ghost = await fetch(`${base}/v1/rigs/${encodeURIComponent(`x' OR 1=1`)}/history`);
      assert.equal(ghost.status, 404);
      // Economics over the same period: the standalone API reads hourly rollups from InfluxDB, `rigtel run`
      // reads its store's. No market values are recorded in either, so both are incomplete for the same reasons.
      const period = `from=${from}&to=${to}&group=rig`;
      const econ = await fetch(`${base}/v1/economics?${period}`);
      const econBody = await econ.text();
      assert.equal(econ.status, 200, econBody);
      const wantEcon = await local.inject(`/v1/economics?${period}`);
      assert.equal(wantEcon.statusCode, 200, wantEcon.body);
      type Econ = {
        complete: boolean;
        incomplete: { kind: string; rig_id?: string }[];
        totals: {
          rigs: number;
          hashrate_avg_ths: number;
          energy: { kwh: number; kwh_by_source: Record<string, number> };
        };
      };
      const [g, w] = [JSON.parse(econBody) as Econ, wantEcon.json() as Econ];
      assert.equal(g.totals.rigs, 2);
      assert.equal(g.totals.rigs, w.totals.rigs);
      assert.equal(g.complete, w.complete);
      const kinds = (e: Econ) => [...new Set(e.incomplete.map((r) => `${r.kind} ${r.rig_id ?? ''}`))].sort();
      assert.deepEqual(kinds(g), kinds(w));
      const near = (x: number, y: number, rel: number, what: string) =>
        assert.ok(Math.abs(x - y) <= rel * Math.abs(y), `${what}: ${x} vs ${y}`);
      near(g.totals.energy.kwh, w.totals.energy.kwh, 0.01, 'kWh');
      for (const src of ['pdu', 'miner', 'estimate'])
        near(g.totals.energy.kwh_by_source[src]!, w.totals.energy.kwh_by_source[src]!, 0.02, `kWh ${src}`);
      near(g.totals.hashrate_avg_ths, w.totals.hashrate_avg_ths, 0.01, 'TH/s');

      await influxd.down();
      const down = await fetch(`${base}/v1/rigs/${encodeURIComponent(RIG)}/history?from=${from}&to=${to}`);
      const text = await down.text();
      assert.equal(down.status, 503, text);
      assert.equal(
        (JSON.parse(text) as { error: { code: string } }).error.code,
        'RT_ERR_API_HISTORY_BACKEND',
      );
      assert.ok(!text.includes(PASSWORD));
      assert.equal((await fetch(`${base}/v1/rigs`)).status, 200, 'live routes still answer');
      await influxd.up();
      const back = await fetch(`${base}/v1/rigs/${encodeURIComponent(RIG)}/history?from=${from}&to=${to}`);
      assert.equal(back.status, 200);
    } finally {
      await local.close();
      localMarket.store.close();
      abort.abort();
      assert.equal(await running, 0);
    }
    assert.ok(!io.text.includes(PASSWORD));
  });

  test('without sinks.influx the history and economics routes answer 501 naming what to configure', async () => {
    const port = await freePort();
    const cfgFile = join(dir, 'api-no-influx.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        site: { name: 'h1-history' },
        storage: { dir },
        api: { listen: `127.0.0.1:${port}` },
        rigs: [{ name: 'configured-rig', address: '127.0.0.1:1' }],
        sinks: { mqtt: { url: 'mqtt://127.0.0.1:1883', topic_prefix: `rigtel-h1-${process.pid}` } },
      }),
    );
    const abort = new AbortController();
    const io = captureIo();
    const running = apiCommand({ configFile: cfgFile, io, signal: abort.signal });
    for (let i = 0; i < 100 && !io.text.includes('Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 50));
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/rigs/configured-rig/history`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 501);
      assert.equal(body.error.code, 'RT_ERR_API_HISTORY_UNAVAILABLE');
      assert.match(body.error.message, /sinks\.influx/);
      const econ = await fetch(`http://127.0.0.1:${port}/v1/economics`);
      assert.equal(econ.status, 501);
      assert.equal(
        ((await econ.json()) as { error: { code: string } }).error.code,
        'RT_ERR_ECON_UNAVAILABLE',
      );
    } finally {
      abort.abort();
      assert.equal(await running, 0);
    }
  });
});
