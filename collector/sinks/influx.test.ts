import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../../config/load.js';
import { influxSinkSchema } from '../../config/sections/sinks.js';
import { createAntminerDriver } from '../../protocols/antminer/driver.js';
import { startEmulatedFleet } from '../../protocols/emulator/fleet.js';
import type { Sample } from '../../protocols/sample.js';
import { freePort, type Influxd, startInfluxd } from '../../testing/influxd.js';
import { makeSample, offlineSample } from '../../testing/sample-factory.js';
import { Fanout } from '../fanout.js';
import { Journal, silentLogger } from '../journal.js';
import { startCollector, targetsFromConfig } from '../runtime.js';
import { InfluxSink, type SinkLog } from './influx.js';
import { cleanTag, poolHost, samplePoints } from './influx-schema.js';
import type { JournalEntry } from './sink.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

function entries(samples: ReturnType<typeof makeSample>[], from = 1): JournalEntry[] {
  return samples.map((sample, i) => ({ seq: from + i, sample }));
}

class MemLog implements SinkLog {
  lines: { obj: Record<string, unknown>; msg?: string }[] = [];
  warn(obj: object, msg?: string): void {
    this.lines.push({ obj: obj as Record<string, unknown>, msg });
  }
  debug(): void {}
  info(): void {}
  error(): void {}
}

type Series = { columns: string[]; values: (string | number | boolean | null)[][] };

async function q(url: string, db: string, query: string): Promise<Series[]> {
  const res = await fetch(
    `${url}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(query)}`,
  );
  const body = (await res.json()) as { results: { series?: Series[]; error?: string }[] };
  const r = body.results[0]!;
  if (r.error) throw new Error(r.error);
  return r.series ?? [];
}

/** The single value of a one-row `SELECT count(…)`. */
function one(series: Series[]): unknown {
  return series[0]?.values[0]?.[1];
}

describe('influx schema (pure)', () => {
  test('a mining sample gives rig, board, fan, pool and poll points with typed fields and no nulls', () => {
    const s = makeSample('rig-a', T0, { temp_inlet_c: null, hashrate_avg_hs: Number.NaN });
    const pts = samplePoints(s, { precision: 'ms' });
    const by = (m: string) => pts.filter((p) => p.measurement === m);
    assert.equal(by('rig').length, 1);
    assert.equal(by('board').length, 3);
    assert.equal(by('fan').length, 4);
    assert.equal(by('pool').length, 1);
    assert.equal(by('poll').length, 1);
    const rig = by('rig')[0]!;
    assert.equal(rig.time, T0);
    assert.equal(rig.tags.rig, 'rig-a');
    assert.equal(rig.tags.model, 'Antminer S19 Pro');
    assert.equal(rig.tags.power_source, 'pdu');
    assert.ok(!('temp_inlet_c' in rig.fields), 'null is omitted');
    assert.ok(!('hashrate_avg_hs' in rig.fields), 'NaN is omitted');
    assert.equal(rig.fields.uptime_s, 86_400);
    const pool = by('pool')[0]!;
    assert.equal(pool.tags.host, 'btc.pool.example');
    assert.equal(pool.fields.port, 3333);
    assert.ok(!JSON.stringify(pool).includes('worker1'), 'the worker user is never written');
  });

  test('an offline sample gives only a poll point with up=0 and the error code as tag', () => {
    const pts = samplePoints(offlineSample('rig-b', T0 + 1500), { precision: 's' });
    assert.equal(pts.length, 1);
    assert.deepEqual(pts[0], {
      measurement: 'poll',
      tags: { site: 'site-test', rig: 'rig-b', error_code: 'RT_ERR_PROTO_CONNECT_TIMEOUT' },
      fields: { up: 0, duration_ms: 3000 },
      time: Math.floor((T0 + 1500) / 1000),
    });
  });

  test('config: token and user/password exclude each other; secrets never serialize', () => {
    assert.throws(() => influxSinkSchema.parse({ token: 't', username: 'u' }), /either token/);
    assert.throws(() => influxSinkSchema.parse({ password: 'p' }), /username/);
    assert.throws(() => influxSinkSchema.parse({ url: 'ftp://x' }));
    assert.throws(() => influxSinkSchema.parse({ retention_duration: 'forever' }));
    assert.throws(() => influxSinkSchema.parse({ precision: 'ns' }));
    assert.throws(() => influxSinkSchema.parse({ tags: ['ip'] }));
    const c = influxSinkSchema.parse({ token: 'tok-Zx9' });
    assert.ok(!JSON.stringify(c).includes('tok-Zx9'));
    assert.equal(c.precision, 'ms');
    assert.equal(c.create_database, true);
  });

  test('hostile tag values are made writable; pool URLs yield host only', () => {
    assert.equal(cleanTag('a\nb\\'), 'a b');
    assert.equal(cleanTag('   '), null);
    assert.deepEqual(poolHost('stratum+tcp://user:pw@Pool.Example:443/x'), {
      host: 'pool.example',
      port: 443,
    });
    assert.deepEqual(poolHost(null), { host: null, port: null });
    const pts = samplePoints(
      makeSample('rig c,1', T0, { identity: { ...makeSample('x', 0).identity, model: 'S19\\' } }),
      { precision: 'ms', tags: ['model'] },
    );
    const rig = pts.find((p) => p.measurement === 'rig')!;
    assert.deepEqual(Object.keys(rig.tags).sort(), ['model', 'rig', 'site']);
    assert.equal(rig.tags.model, 'S19');
  });
});

describe('influx sink against a real influxd', () => {
  let influxd: Influxd;
  before(async () => {
    influxd = await startInfluxd();
  });
  after(async () => {
    await influxd?.stop();
  });

  const cfg = (over: Record<string, unknown> = {}) =>
    influxSinkSchema.parse({ url: influxd.url, flush_interval_ms: 0, ...over });

  test('samples read back with the right measurements, tags, field types and values; replay adds nothing', async () => {
    const sink = new InfluxSink(
      cfg({ database: 'rt_roundtrip', retention_policy: 'raw', retention_duration: '30d' }),
    );
    await sink.open();
    const batch = entries([makeSample('rig-a', T0), makeSample('rig-b', T0), offlineSample('rig-c', T0)]);
    await sink.write(batch);
    await sink.write(batch); // a replay after a crash: same points, no duplicates
    await sink.close();
    const db = 'rt_roundtrip';
    const rp = '"rt_roundtrip"."raw"';
    const measurements = (await q(influxd.url, db, 'SHOW MEASUREMENTS'))[0]!.values.flat();
    assert.deepEqual(measurements.sort(), ['board', 'fan', 'poll', 'pool', 'rig']);

    const fieldKeys = await q(influxd.url, db, `SHOW FIELD KEYS ON "${db}" FROM ${rp}."rig"`);
    const types = Object.fromEntries(fieldKeys[0]!.values.map((r) => [String(r[0]), r[1]]));
    assert.equal(types.hashrate_hs, 'float');
    assert.equal(types.power_w, 'float');
    assert.equal(types.uptime_s, 'integer');
    assert.equal(types.shares_accepted, 'integer');
    assert.equal(types.support, 'string');
    assert.ok(!('temp_inlet_c' in types), 'a field never reported is never written');
    const poolTypes = Object.fromEntries(
      (await q(influxd.url, db, `SHOW FIELD KEYS FROM ${rp}."pool"`))[0]!.values.map((r) => [
        String(r[0]),
        r[1],
      ]),
    );
    assert.equal(poolTypes.active, 'boolean');

    const rig = await q(influxd.url, db, `SELECT * FROM ${rp}."rig" WHERE "rig" = 'rig-a'`);
    const cols: string[] = rig[0]!.columns;
    assert.equal(rig[0]!.values.length, 1);
    const row = Object.fromEntries(cols.map((c, i) => [c, rig[0]!.values[0]![i]]));
    assert.equal(row.time, T0);
    assert.equal(row.hashrate_hs, 110.2e12);
    assert.equal(row.power_w, 3250.5);
    assert.equal(row.power_source, 'pdu');
    assert.equal(row.model, 'Antminer S19 Pro');
    assert.equal(row.site, 'site-test');
    assert.equal(row.temp_inlet_c, undefined);

    const counts = await q(influxd.url, db, `SELECT count("up") FROM ${rp}."poll"`);
    assert.equal(one(counts), 3, 'one poll point per sample, replay overwrote itself');
    const down = await q(influxd.url, db, `SELECT "up" FROM ${rp}."poll" WHERE "rig" = 'rig-c'`);
    assert.equal(one(down), 0);
    const offlineRig = await q(influxd.url, db, `SELECT * FROM ${rp}."rig" WHERE "rig" = 'rig-c'`);
    assert.equal(offlineRig.length, 0, 'an offline rig has no rig point (no fake zeros)');
    const tags = await q(influxd.url, db, `SHOW TAG VALUES FROM ${rp}."poll" WITH KEY = "error_code"`);
    assert.deepEqual(tags[0]!.values, [['error_code', 'RT_ERR_PROTO_CONNECT_TIMEOUT']]);
  });

  test('partial write: a field-type conflict skips only the bad line, with a named error, and does not loop', async () => {
    const db = 'rt_partial';
    const log = new MemLog();
    const sink = new InfluxSink(cfg({ database: db }), { log });
    await sink.open();
    // A point written earlier by something else made `uptime_s` a float in the shard of last January.
    const old = Date.UTC(2026, 0, 15, 12, 0, 0);
    const pre = await fetch(`${influxd.url}/write?db=${db}&precision=ms`, {
      method: 'POST',
      body: `rig,rig=rig-old,site=site-test uptime_s=1.5 ${old - 60_000}`,
    });
    assert.equal(pre.status, 204);
    const samples = [
      makeSample('rig-1', T0),
      makeSample('rig-old', old),
      makeSample('rig-2', T0),
      makeSample('rig-3', T0 + 1000),
    ];
    await sink.write(entries(samples));
    assert.equal(sink.stats.points_rejected, 1);
    assert.ok(sink.stats.requests < 20, `bounded retries, got ${sink.stats.requests}`);
    const rejected = log.lines.filter((l) => l.obj.code === 'RT_ERR_SINK_INFLUX_REJECTED');
    assert.equal(rejected.length, 1);
    assert.match(String(rejected[0]!.obj.line), /^rig,.*rig=rig-old/);
    assert.match(String(rejected[0]!.obj.reason), /field type conflict/);
    const rigCount = await q(influxd.url, db, 'SELECT count("hashrate_hs") FROM "rig"');
    assert.equal(one(rigCount), 3, 'the three good rig lines are stored');
    const boards = await q(influxd.url, db, `SELECT count("chips") FROM "board" WHERE "rig" = 'rig-old'`);
    assert.equal(one(boards), 3, "the bad sample's other points are stored");
    const polls = await q(influxd.url, db, 'SELECT count("up") FROM "poll"');
    assert.equal(one(polls), 4);
    await sink.close();
  });

  test('a malformed journal entry is skipped with a named error; its neighbours are written', async () => {
    const db = 'rt_garbage';
    const log = new MemLog();
    const sink = new InfluxSink(cfg({ database: db }), { log });
    await sink.open();
    const bad = [
      { seq: 2, sample: { rig_id: 5 } as unknown as Sample },
      { seq: 3, sample: { ...makeSample('r-noat', T0), at_ms: Number.NaN } },
    ];
    await sink.write([...entries([makeSample('r1', T0)]), ...bad, ...entries([makeSample('r2', T0)], 4)]);
    assert.equal(sink.stats.points_rejected, 2);
    assert.deepEqual(
      log.lines.map((l) => l.obj.code),
      ['RT_ERR_SINK_INFLUX_REJECTED', 'RT_ERR_SINK_INFLUX_REJECTED'],
    );
    assert.equal(one(await q(influxd.url, db, 'SELECT count("up") FROM "poll"')), 2);
  });

  test('a missing database is created on write when allowed, refused with a named error when not', async () => {
    const sink = new InfluxSink(cfg({ database: 'rt_nodb', create_database: false }));
    await sink.open();
    await assert.rejects(sink.write(entries([makeSample('r', T0)])), {
      code: 'RT_ERR_SINK_INFLUX_NO_DATABASE',
    });
    const creating = new InfluxSink(cfg({ database: 'rt_nodb' }));
    await fetch(`${influxd.url}/query?q=${encodeURIComponent('DROP DATABASE "rt_nodb"')}`, {
      method: 'POST',
    });
    await creating.write(entries([makeSample('r', T0)]));
    const polls = await q(influxd.url, 'rt_nodb', 'SELECT count("up") FROM "poll"');
    assert.equal(one(polls), 1);
  });

  test('auth: the right password writes, a wrong one is RT_ERR_SINK_INFLUX_AUTH (retried, nothing lost)', async () => {
    const secured = await startInfluxd({ auth: true });
    try {
      // With auth on and no user yet, 1.x accepts exactly one thing: creating the first admin.
      const created = await fetch(
        `${secured.url}/query?q=${encodeURIComponent("CREATE USER rigtel WITH PASSWORD 'pw-Zx9' WITH ALL PRIVILEGES")}`,
        { method: 'POST' },
      );
      assert.equal(created.status, 200);
      const base = { url: secured.url, database: 'rt_auth', flush_interval_ms: 0, username: 'rigtel' };
      const wrong = new InfluxSink(influxSinkSchema.parse({ ...base, password: 'nope' }));
      await assert.rejects(wrong.open(), { code: 'RT_ERR_SINK_INFLUX_AUTH' });
      await assert.rejects(wrong.write(entries([makeSample('r', T0)])), { code: 'RT_ERR_SINK_INFLUX_AUTH' });
      const right = new InfluxSink(influxSinkSchema.parse({ ...base, password: 'pw-Zx9' }));
      await right.open();
      await right.write(entries([makeSample('r', T0)]));
      const res = await fetch(
        `${secured.url}/query?db=rt_auth&u=rigtel&p=pw-Zx9&q=${encodeURIComponent('SELECT count("up") FROM "poll"')}`,
      );
      const body = (await res.json()) as { results: { series?: Series[] }[] };
      assert.equal(one(body.results[0]!.series ?? []), 1);
      const cfgText = JSON.stringify(influxSinkSchema.parse({ ...base, password: 'pw-Zx9' }));
      assert.ok(!cfgText.includes('pw-Zx9'), 'the password never shows in serialized config');
    } finally {
      await secured.stop();
    }
  });

  test('nothing listening: write throws the retryable RT_ERR_SINK_INFLUX_UNAVAILABLE', async () => {
    const port = await freePort();
    const sink = new InfluxSink(
      influxSinkSchema.parse({ url: `http://127.0.0.1:${port}`, flush_interval_ms: 0 }),
    );
    await assert.rejects(sink.open(), { code: 'RT_ERR_SINK_INFLUX_UNAVAILABLE' });
    await assert.rejects(sink.write(entries([makeSample('r', T0)])), {
      code: 'RT_ERR_SINK_INFLUX_UNAVAILABLE',
    });
  });
});

describe('influx sink with the journal and fan-out (outage, crash)', () => {
  let influxd: Influxd;
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'rigtel-influx-journal-'));
    dirs.push(d);
    return d;
  };
  before(async () => {
    influxd = await startInfluxd();
  });
  after(async () => {
    await influxd?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
    const until = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('InfluxDB outage: samples appended while influxd is down all arrive once it is back, exactly once', async () => {
    // Journal + fan-out + sink directly (the collector runtime was not in the repo when this was written).
    const db = 'rt_outage';
    const journal = Journal.open(tempDir(), { fsync: 'off', maxBytes: 1e9 });
    const sink = new InfluxSink(
      influxSinkSchema.parse({ url: influxd.url, database: db, flush_interval_ms: 0 }),
    );
    const fanout = new Fanout(journal, [sink], { batchSize: 100, retryMinMs: 50, retryMaxMs: 300 });
    fanout.start();
    const rigs = 20;
    let round = 0;
    const appendRound = () => {
      const samples = [];
      for (let r = 0; r < rigs; r++) samples.push(makeSample(`r${r}`, T0 + round * 30_000));
      samples.push(offlineSample('dead', T0 + round * 30_000));
      round++;
      journal.append(samples);
      fanout.kick();
    };
    try {
      for (let i = 0; i < 5; i++) appendRound();
      assert.equal(await fanout.flush(20_000), true);

      await influxd.down();
      for (let i = 0; i < 10; i++) appendRound();
      await waitFor('the sink to report the outage', () => fanout.status()[0]!.state === 'retrying');
      assert.equal(fanout.status()[0]!.last_error?.code, 'RT_ERR_SINK_INFLUX_UNAVAILABLE');
      assert.ok(fanout.status()[0]!.lag_samples > 0);

      await influxd.up();
      for (let i = 0; i < 5; i++) appendRound();
      assert.equal(await fanout.flush(30_000), true, 'everything delivered after the outage');
      const total = round * (rigs + 1);
      assert.equal(one(await q(influxd.url, db, 'SELECT count("up") FROM "poll"')), total);
      assert.equal(one(await q(influxd.url, db, 'SELECT count("hashrate_hs") FROM "rig"')), round * rigs);
      assert.equal(one(await q(influxd.url, db, 'SELECT count("speed_rpm") FROM "fan"')), round * rigs * 4);
      assert.equal(sink.stats.points_rejected, 0);
    } finally {
      await fanout.stop();
      await journal.close();
    }
  });

  test('end to end: the collector polls an emulated fleet through an InfluxDB outage; every sample arrives once', async () => {
    const db = 'rt_e2e';
    const fleet = await startEmulatedFleet({ count: 12, mix: 'antminer' });
    const cfg = validateConfig({
      site: { name: 'e2e' },
      storage: { dir: tempDir(), journal_fsync: 'off' },
      poll: { interval_ms: 30_000, poll_deadline_ms: 5000 },
      rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: 'antminer' })),
      sinks: { influx: { url: influxd.url, database: db, flush_interval_ms: 0 } },
    });
    const rt = await startCollector(cfg, targetsFromConfig(cfg), {
      log: silentLogger,
      driverFor: () => createAntminerDriver(),
      autoStart: false,
    });
    const influxStatus = () => rt.health.sinks().find((s) => s.name === 'influx')!;
    try {
      const sweep = async () => {
        await rt.sweepNow();
        await new Promise((r) => setTimeout(r, 5)); // distinct poll times per sweep
      };
      await sweep();
      assert.equal(await rt.fanout.flush(20_000), true);
      await influxd.down();
      for (let i = 0; i < 4; i++) await sweep();
      await waitFor('the outage to show', () => influxStatus().state === 'retrying');
      assert.equal(influxStatus().last_error?.code, 'RT_ERR_SINK_INFLUX_UNAVAILABLE');
      assert.ok(influxStatus().lag_samples >= 12);
      await influxd.up();
      await sweep();
      assert.equal(await rt.fanout.flush(60_000), true, 'the backlog drained after the outage');
      const journalled = rt.journal.lastSeq();
      assert.equal(journalled, 12 * 6);
      assert.equal(one(await q(influxd.url, db, 'SELECT count("up") FROM "poll"')), journalled);
      const perRig = await q(influxd.url, db, 'SELECT count("up") FROM "poll" GROUP BY "rig"');
      assert.equal(perRig.length, 12);
      for (const series of perRig) assert.equal(series.values[0]![1], 6);
      const up = one(await q(influxd.url, db, 'SELECT sum("up") FROM "poll"')) as number;
      assert.ok(up >= 12 * 5, `the emulated rigs answered (${up} of ${journalled} polls up)`);
      assert.equal(one(await q(influxd.url, db, 'SELECT count("hashrate_hs") FROM "rig"')), up);
    } finally {
      await rt.stop();
      await fleet.stop();
    }
  });

  test('collector crash: kill -9 mid-batch, restart replays, counts are exact', async () => {
    const db = 'rt_crash';
    const dir = tempDir();
    const count = 3000;
    const fixture = fileURLToPath(new URL('./sinks.child.fixture.ts', import.meta.url));
    const runChild = (killAfterSeq: number | null) =>
      new Promise<{ killedAt: number | null; done: boolean }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', fixture, 'influx', dir, influxd.url, db, String(count), String(T0)],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        let killedAt: number | null = null;
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.stdout.on('data', (d) => {
          out += d;
          const lines = out.split('\n');
          out = lines.pop()!;
          for (const line of lines) {
            const seq = Number(line);
            if (killAfterSeq !== null && killedAt === null && Number.isFinite(seq) && seq >= killAfterSeq) {
              killedAt = seq;
              child.kill('SIGKILL');
            }
          }
        });
        child.once('exit', (code, signal) => {
          if (signal === 'SIGKILL') resolve({ killedAt, done: false });
          else if (code === 0) resolve({ killedAt, done: true });
          else reject(new Error(`child exited ${code}: ${err}`));
        });
      });
    const first = await runChild(1000);
    assert.equal(first.done, false);
    assert.ok(first.killedAt !== null && first.killedAt < count, `killed mid-way at ${first.killedAt}`);
    const second = await runChild(null);
    assert.equal(second.done, true);
    assert.equal(one(await q(influxd.url, db, 'SELECT count("up") FROM "poll"')), count);
    assert.equal(one(await q(influxd.url, db, 'SELECT count("hashrate_hs") FROM "rig"')), count);
    assert.equal(one(await q(influxd.url, db, 'SELECT count("chips") FROM "board"')), count * 3);
  });
});
