import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IdentityMap } from '../collector/identity.js';
import { MarketStore } from '../collector/market/store.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import { makeSample } from '../testing/sample-factory.js';
import type { Io } from './io.js';
import { main } from './main.js';

const T0 = Date.UTC(2026, 0, 14);
const H = 3_600_000;

function captureIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    env: {},
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}

describe('rigtel economics and rigtel market import', () => {
  let dir = '';
  let cfg = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-econ-cli-'));
    cfg = join(dir, 'rigtel.yaml');
    writeFileSync(
      cfg,
      `storage:\n  dir: ${dir}\npoll:\n  interval_ms: 300000\n  poll_deadline_ms: 20000\nsite:\n  timezone: UTC\neconomics:\n  tariff:\n    usd_per_kwh: 0.04\n`,
    );
    const store = EmbeddedStore.open(dir, {
      rawRetentionHours: 24 * 400,
      rollupRetentionDays: 3650,
      intervalMs: 300_000,
      backoffMaxMs: 300_000,
    });
    let seq = 0;
    for (let t = T0 - 600_000; t <= T0 + 24 * H + 600_000; t += 300_000) {
      store.writeSync([
        {
          seq: ++seq,
          sample: makeSample('rig-1', t, {
            hashrate_hs: 100e12,
            power_w: 3000,
            power_source: 'pdu',
            state: 'mining',
          }),
        },
      ]);
    }
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a bad row imports nothing and names its line', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      'time,kind,value\n2026-01-09T00:00:00Z,difficulty,100e12\n2026-01-14T12:00:00Z,price_usd,-5\n',
    );
    const io = captureIo();
    assert.equal(await main(['market', 'import', file, '--config', cfg], io), 1);
    assert.match(io.stderr, /RT_ERR_MARKET_IMPORT: .*bad\.csv:3: value/);
    const m = MarketStore.open(dir);
    assert.equal(m.latest('difficulty'), null);
    m.close();
  });

  test('imports a CSV, then prints the day as CSV and JSON', async () => {
    const file = join(dir, 'market.csv');
    writeFileSync(
      file,
      [
        'time,kind,value,basis',
        '2026-01-09T00:00:00Z,difficulty,100000000000000,retarget',
        '2026-01-09T00:00:00Z,height,899136,retarget block',
        '2026-01-13T23:00:00Z,fees_btc_per_block,0.075,144-block average',
        '2026-01-14T12:00:00Z,price_usd,100000,daily close',
        '',
      ].join('\n'),
    );
    const io = captureIo();
    assert.equal(await main(['market', 'import', file, '--config', cfg], io), 0, io.stderr);
    assert.match(io.stdout, /recorded 4 values/);

    const csv = captureIo();
    const args = [
      'economics',
      '--from',
      '2026-01-14T00:00:00Z',
      '--to',
      '2026-01-15T00:00:00Z',
      '--config',
      cfg,
    ];
    assert.equal(await main([...args, '--csv'], csv), 0, csv.stderr);
    const [head, row] = csv.stdout.trim().split('\n');
    const rec = Object.fromEntries(head!.split(',').map((k, i) => [k, row!.split(',')[i]]));
    // 100 TH/s · 64.373016357421875 sats/TH/day (D = 100 T, 3.125 + 0.075 BTC) = 6,437.30 sats → 0.00006437 BTC;
    // at $100,000: $6.4373 → 6.44. 3 kW · 24 h = 72 kWh, all metered; at $0.04 = $2.88.
    assert.equal(rec.btc, '0.00006437');
    assert.equal(rec.revenue_usd, '6.44');
    assert.equal(rec.kwh, '72.000');
    assert.equal(rec.pdu_share, '1');
    assert.equal(rec.energy_usd, '2.88');
    assert.equal(rec.j_per_th, '30');
    assert.equal(rec.complete, 'true');

    const json = captureIo();
    assert.equal(await main([...args, '--json'], json), 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.totals.revenue.expected_sats, 6437);
    assert.deepEqual(report.market_sources.length > 0, true);

    const table = captureIo();
    assert.equal(await main(args, table), 0, table.stderr);
    assert.match(table.stdout, /^fleet\s+1\s+100\s+0\.00006437\s+6\.44/m);
  });

  test('--group model reads each rig’s model from its stored samples', async () => {
    // Day 2: rig-2 reports another model; rig-3 reports none (its model is unknown, never guessed).
    const store = EmbeddedStore.open(dir, {
      rawRetentionHours: 24 * 400,
      rollupRetentionDays: 3650,
      intervalMs: 300_000,
      backoffMaxMs: 300_000,
    });
    let seq = 10_000;
    for (let t = T0 + 24 * H; t < T0 + 48 * H; t += 300_000) {
      const s2 = makeSample('rig-2', t, { hashrate_hs: 200e12, power_w: 3400, state: 'mining' });
      const s3 = makeSample('rig-3', t, { hashrate_hs: 50e12, power_w: 1500, state: 'mining' });
      s2.identity = { ...s2.identity, model: 'WhatsMiner M50S' };
      s3.identity = { ...s3.identity, model: null };
      store.writeSync([
        { seq: ++seq, sample: s2 },
        { seq: ++seq, sample: s3 },
      ]);
    }
    await store.close();
    const io = captureIo();
    const args = ['economics', '--from', '2026-01-14T00:00:00Z', '--to', '2026-01-16T00:00:00Z'];
    assert.equal(await main([...args, '--group', 'model', '--json', '--config', cfg], io), 0, io.stderr);
    const report = JSON.parse(io.stdout);
    assert.deepEqual(
      report.groups.map((g: { key: string; rigs: number }) => [g.key, g.rigs]),
      [
        ['Antminer S19 Pro', 1],
        ['unknown', 1],
        ['WhatsMiner M50S', 1],
      ],
    );
  });

  test('usage errors exit 2', async () => {
    const io = captureIo();
    assert.equal(await main(['economics', '--group', 'planet', '--config', cfg], io), 2);
    assert.equal(await main(['market', 'export'], captureIo()), 2);
  });
});

describe('rigtel economics --group rack', () => {
  test('finds each configured rig’s id (its MAC) through the identity aliases the collector stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-econ-rack-'));
    try {
      const cfg = join(dir, 'rigtel.yaml');
      writeFileSync(
        cfg,
        [
          `storage:\n  dir: ${dir}`,
          'poll:\n  interval_ms: 300000\n  poll_deadline_ms: 20000',
          'rigs:',
          '  - { name: n1, address: 10.0.0.1, tags: { rack: B07 } }',
          // Unnamed and configured without a port: known by its address, 10.0.0.2:4028.
          '  - { address: 10.0.0.2, tags: { rack: B08 } }',
          '  - { name: n3, address: 10.0.0.3, tags: { owner: x } }',
          '',
        ].join('\n'),
      );
      const store = EmbeddedStore.open(dir, {
        rawRetentionHours: 24 * 400,
        rollupRetentionDays: 3650,
        intervalMs: 300_000,
        backoffMaxMs: 300_000,
      });
      // What the collector does on a first poll: each rig reports a MAC, which becomes its id.
      const identity = new IdentityMap(store.db);
      const ids = [
        identity.resolve({ name: 'n1', address: '10.0.0.1:4028' }, 'AA-BB-CC-00-00-01', T0),
        identity.resolve({ name: null, address: '10.0.0.2:4028' }, 'AA-BB-CC-00-00-02', T0),
        identity.resolve({ name: 'n3', address: '10.0.0.3:4028' }, 'AA-BB-CC-00-00-03', T0),
      ];
      assert.deepEqual(ids, ['aa:bb:cc:00:00:01', 'aa:bb:cc:00:00:02', 'aa:bb:cc:00:00:03']);
      await new Promise((r) => setImmediate(r)); // bindings are written once per event-loop turn
      let seq = 0;
      for (let t = T0; t < T0 + 24 * H; t += 300_000)
        store.writeSync(
          ids.map((id) => ({
            seq: ++seq,
            sample: makeSample(id, t, { hashrate_hs: 100e12, power_w: 3000, state: 'mining' }),
          })),
        );
      await store.close();
      const io = captureIo();
      const args = ['economics', '--from', '2026-01-14T00:00:00Z', '--to', '2026-01-15T00:00:00Z'];
      assert.equal(await main([...args, '--group', 'rack', '--json', '--config', cfg], io), 0, io.stderr);
      const report = JSON.parse(io.stdout);
      assert.deepEqual(
        report.groups.map((g: { key: string; rigs: number }) => [g.key, g.rigs]),
        [
          ['B07', 1],
          ['B08', 1],
          ['unknown', 1],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('after a hardware swap and a move', () => {
    const opts = {
      rawRetentionHours: 24 * 400,
      rollupRetentionDays: 3650,
      intervalMs: 300_000,
      backoffMaxMs: 300_000,
    };
    const config = (dir: string) =>
      [
        `storage:\n  dir: ${dir}`,
        'poll:\n  interval_ms: 300000\n  poll_deadline_ms: 20000',
        'rigs:',
        '  - { name: a5, address: 10.0.0.5, tags: { rack: R1 } }',
        '  - { address: 10.0.0.7, tags: { rack: R3 } }',
        '  - { address: 10.0.0.8, tags: { rack: R2 } }',
        '',
      ].join('\n');
    /**
     * Day 1: rig A (MAC …:01) at 10.0.0.5 until noon, then new hardware there (MAC …:02, a new rig id); rig M
     * at 10.0.0.7 (R3). Day 2: M moved to 10.0.0.8 (R2). Ids as the collector resolves them.
     */
    async function fill(dir: string, old: boolean): Promise<void> {
      const store = EmbeddedStore.open(dir, opts);
      const identity = new IdentityMap(store.db);
      let seq = 0;
      const poll = (name: string | null, address: string, mac: string, t: number) => {
        const id = identity.resolve({ name, address }, mac, t);
        return {
          seq: ++seq,
          sample: makeSample(id, t, { address, hashrate_hs: 100e12, power_w: 3000, state: 'mining' }),
        };
      };
      for (let t = T0; t < T0 + 48 * H; t += 300_000) {
        const batch = [
          poll(null, t < T0 + 24 * H ? '10.0.0.7:4028' : '10.0.0.8:4028', 'CC-00-00-00-00-01', t),
        ];
        if (t < T0 + 24 * H)
          batch.push(
            poll('a5', '10.0.0.5:4028', t < T0 + 12 * H ? 'AA-00-00-00-00-01' : 'AA-00-00-00-00-02', t),
          );
        store.writeSync(batch);
      }
      await new Promise((r) => setImmediate(r)); // bindings are written once per event-loop turn
      // A store written before `rig_places` existed: opened again, it has the table, empty.
      if (old) store.db.exec('DROP TABLE IF EXISTS rig_places');
      await store.close();
    }
    async function byRack(dir: string, from: string, to: string) {
      const io = captureIo();
      const args = ['economics', '--from', from, '--to', to, '--group', 'rack', '--json'];
      assert.equal(await main([...args, '--config', join(dir, 'rigtel.yaml')], io), 0, io.stderr);
      const report = JSON.parse(io.stdout) as {
        groups: { key: string; rigs: number; energy: { kwh: number }; revenue: { expected_sats: number } }[];
      };
      return report.groups.map((g) => [g.key, g.rigs, g.energy.kwh]);
    }

    test('hours of the swapped-out id stay with the rack it was polled at; a moved rig goes by period', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rigtel-econ-swap-'));
      try {
        writeFileSync(join(dir, 'rigtel.yaml'), config(dir));
        await fill(dir, false);
        // Both ids of 10.0.0.5 under R1 (3 kW · 11 h 55 min each: a rig's last poll holds only until its next),
        // nothing unknown; M at 10.0.0.7 on day 1.
        assert.deepEqual(await byRack(dir, '2026-01-14T00:00:00Z', '2026-01-15T00:00:00Z'), [
          ['R1', 2, 71.5],
          ['R3', 1, 72],
        ]);
        assert.deepEqual(await byRack(dir, '2026-01-14T00:00:00Z', '2026-01-14T12:00:00Z'), [
          ['R1', 1, 35.75],
          ['R3', 1, 36],
        ]);
        assert.deepEqual(await byRack(dir, '2026-01-15T00:00:00Z', '2026-01-16T00:00:00Z'), [
          ['R2', 1, 71.75],
        ]);
        // Over both days a rig id is under the rack of its latest place in the period.
        const both = await byRack(dir, '2026-01-14T00:00:00Z', '2026-01-16T00:00:00Z');
        assert.deepEqual(
          both.map(([k, n]) => [k, n]),
          [
            ['R1', 2],
            ['R2', 1],
          ],
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a store without place history groups as before: by each configured rig’s current id', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rigtel-econ-noplaces-'));
      try {
        writeFileSync(join(dir, 'rigtel.yaml'), config(dir));
        await fill(dir, true);
        assert.deepEqual(await byRack(dir, '2026-01-14T00:00:00Z', '2026-01-15T00:00:00Z'), [
          ['R1', 1, 35.75],
          ['R2', 1, 72],
          ['unknown', 1, 35.75],
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
