import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RtError } from '../../lib/errors.js';
import { ProtoErrors } from '../../protocols/errors.js';
import { emptyReading, type PowerSource, type RigState, type Sample } from '../../protocols/sample.js';
import { toSample } from '../poll.js';
import { EmbeddedStore, type EmbeddedStoreOptions } from './embedded.js';
import type { JournalEntry } from './sink.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rigtel-store-'));
  dirs.push(d);
  return d;
}

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0); // an hour boundary
const INTERVAL = 30_000;
let clock = T0;
function open(extra: Partial<EmbeddedStoreOptions> = {}): EmbeddedStore {
  return EmbeddedStore.open(tmp(), {
    rawRetentionHours: 24,
    rollupRetentionDays: 365,
    intervalMs: INTERVAL,
    backoffMaxMs: 60_000,
    now: () => clock,
    ...extra,
  });
}

let seq = 0;
function entry(
  at: number,
  o: {
    ok?: boolean;
    watts?: number | null;
    hs?: number | null;
    state?: RigState;
    src?: PowerSource;
    rig?: string;
  } = {},
): JournalEntry {
  const r = emptyReading('antminer');
  const ok = o.ok ?? true;
  r.state = o.state ?? 'mining';
  r.hashrate_hs = o.hs === undefined ? 100e12 : o.hs;
  r.power_w = o.watts === undefined ? 3000 : o.watts;
  r.power_source = r.power_w === null ? null : (o.src ?? 'miner');
  r.temp_chip_max_c = 70;
  const s: Sample = toSample(r, {
    rigId: o.rig ?? 'aa:bb:cc:dd:ee:01',
    site: 's',
    address: '127.0.0.1:4028',
    atMs: at,
    ok,
    durationMs: 5,
    error: ok ? null : (ProtoErrors.connectRefused('127.0.0.1:4028') as RtError),
  });
  seq += 1;
  return { seq, sample: s };
}

/** Polls every 30 s over [from, to] inclusive. */
function series(from: number, to: number, o: Parameters<typeof entry>[1] = {}): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (let t = from; t <= to; t += INTERVAL) out.push(entry(t, o));
  return out;
}

describe('embedded store', () => {
  it('keeps where each rig id was polled: a row per place, written on a change or once an hour, pruned with the rollups', async () => {
    const store = open({ rollupRetentionDays: 2 });
    const rig = 'aa:bb:cc:dd:ee:01';
    const at = (address: string, from: number, to: number) =>
      series(from, to).map((e) => ({ ...e, sample: { ...e.sample, address } }));
    const places = () =>
      store.db
        .prepare('SELECT address, first_ms, last_ms FROM rig_places WHERE rig_id = ? ORDER BY first_ms')
        .all(rig);
    const changes = () => (store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    // Three hours at one address: the first sample makes the row, each new hour moves last_ms once.
    const first = at('10.0.0.5:4028', T0, T0 + 3 * 3_600_000 - INTERVAL);
    await store.write(first.slice(0, 1));
    const c0 = changes();
    await store.write(first.slice(1, 119)); // the rest of the first hour: no place write
    const perHour = changes() - c0;
    await store.write(first.slice(119));
    await store.write(at('10.0.0.9:4028', T0 + 3 * 3_600_000, T0 + 4 * 3_600_000 - INTERVAL));
    assert.deepEqual(places(), [
      { address: '10.0.0.5:4028', first_ms: T0, last_ms: T0 + 2 * 3_600_000 },
      { address: '10.0.0.9:4028', first_ms: T0 + 3 * 3_600_000, last_ms: T0 + 3 * 3_600_000 },
    ]);
    await store.write(first.slice(0, 1)); // a replay writes nothing
    const sameHour = store.db.prepare('SELECT COUNT(*) AS n FROM rig_places').get() as { n: number };
    assert.equal(sameHour.n, 2);
    assert.equal(perHour, 118 * 4, 'per sample: its reading, rollup poll, span and rig_last; no place write');
    assert.equal(store.placeIn(rig, T0, T0 + 3_600_000), '10.0.0.5:4028');
    // The latest place within the period; before any place: none.
    assert.equal(store.placeIn(rig, T0, T0 + 4 * 3_600_000), '10.0.0.9:4028');
    assert.equal(store.placeIn(rig, T0 + 2 * 3_600_000 + 60_000, T0 + 3 * 3_600_000), '10.0.0.5:4028');
    assert.equal(store.placeIn(rig, T0 - 3_600_000, T0), null);
    assert.equal(store.placeIn('other', T0, T0 + 3_600_000), null);
    // Pruned with the rollups: past 2 days after the first place's last poll, only the second one is left.
    store.prune(T0 + 2 * 3_600_000 + 2 * 24 * 3_600_000 + 3_600_000 + 1);
    assert.deepEqual(
      places().map((p) => (p as { address: string }).address),
      ['10.0.0.9:4028'],
    );
    await store.close();
  });

  it('is idempotent: replaying a batch stores and counts nothing twice', async () => {
    const store = open();
    const batch = series(T0, T0 + 10 * 60_000);
    await store.write(batch);
    const before = store.rollups('aa:bb:cc:dd:ee:01', T0, T0 + 3_600_000);
    await store.write(batch);
    await store.write(batch.slice(3, 9));
    const afterReplay = store.rollups('aa:bb:cc:dd:ee:01', T0, T0 + 3_600_000);
    assert.deepEqual(afterReplay, before);
    assert.equal(before[0]!.polls, batch.length);
    const n = store.db.prepare('SELECT COUNT(*) AS n FROM samples').get() as { n: number };
    assert.equal(n.n, batch.length);
    await store.close();
  });

  it('rolls up an hour: energy from known watts over known time, seconds mining, polls expected vs answered', async () => {
    const store = open();
    // 10:00:00 .. 11:00:00 at 3000 W, then 11:00:30 .. 11:20:00, a 10-minute hole, 11:30:00 .. 12:00:00.
    await store.write(series(T0, T0 + 3_600_000));
    await store.write(series(T0 + 3_630_000, T0 + 3_600_000 + 20 * 60_000));
    await store.write(series(T0 + 3_600_000 + 30 * 60_000, T0 + 7_200_000));
    const [h10, h11] = store.rollups('aa:bb:cc:dd:ee:01', T0, T0 + 7_200_000);
    assert.equal(h10!.energy_wh, 3000, '3000 W for one hour is 3000 Wh');
    assert.equal(h10!.mining_s, 3600);
    assert.equal(h10!.polls, 120);
    assert.equal(h10!.polls_ok, 120);
    assert.equal(h10!.polls_expected, 120);
    assert.equal(h10!.hashrate_hs, 100e12);
    assert.equal(h10!.power_source, 'miner');
    // Hour 11: the 10-minute hole (11:20 → 11:30) is a gap, not integrated: 50 minutes of energy.
    assert.equal(h11!.energy_wh, 2500);
    assert.equal(h11!.mining_s, 3000);
    assert.equal(h11!.covered_s, 3000);
    assert.equal(
      h11!.polls,
      101,
      '11:00:00 itself, 40 before the hole, 60 after it (12:00:00 is the next hour)',
    );
    assert.equal(h11!.polls_expected, 120, 'the hole still counts as expected polls');
    await store.close();
  });

  it('counts offline time and unanswered polls, and keeps the weakest power source', async () => {
    const store = open();
    const rig = 'aa:bb:cc:dd:ee:02';
    // 20 min metered, 20 min estimated, 20 min offline (failed polls every 30 s).
    await store.write(series(T0, T0 + 20 * 60_000 - INTERVAL, { rig, src: 'pdu', watts: 3600 }));
    await store.write(
      series(T0 + 20 * 60_000, T0 + 40 * 60_000 - INTERVAL, { rig, src: 'estimate', watts: 1800 }),
    );
    await store.write(series(T0 + 40 * 60_000, T0 + 60 * 60_000, { rig, ok: false }));
    const [h] = store.rollups(rig, T0, T0 + 3_600_000);
    assert.equal(h!.power_source, 'estimate');
    assert.equal(h!.energy_wh, 3600 / 3 + 1800 / 3);
    assert.equal(h!.offline_s, 1200);
    assert.equal(h!.mining_s, 2400);
    assert.equal(h!.polls, 120);
    assert.equal(h!.polls_ok, 80);
    await store.close();
  });

  it('serves history buckets from raw samples, with nulls (not zeros) for empty buckets', async () => {
    clock = T0 + 2 * 3_600_000;
    const store = open();
    const rig = 'aa:bb:cc:dd:ee:03';
    // Mining 10:00–10:10, nothing 10:10–10:20, mining again 10:20–10:30.
    await store.write(series(T0, T0 + 10 * 60_000 - INTERVAL, { rig }));
    await store.write(series(T0 + 20 * 60_000, T0 + 30 * 60_000, { rig }));
    const pts = store.history({ rigId: rig, fromMs: T0, toMs: T0 + 40 * 60_000, stepS: 600 });
    assert.equal(pts.length, 4);
    assert.deepEqual(
      pts.map((p) => p.polls),
      [20, 0, 20, 1],
    );
    assert.equal(pts[0]!.hashrate_hs, 100e12);
    assert.equal(pts[0]!.power_source, 'miner');
    assert.equal(
      pts[0]!.energy_wh,
      (3000 * (600 - 30)) / 3600,
      'the last poll before the hole is not stretched over it',
    );
    assert.equal(pts[0]!.mining_s, 570);
    const empty = pts[1]!;
    assert.equal(empty.t_ms, T0 + 10 * 60_000);
    assert.equal(empty.hashrate_hs, null);
    assert.equal(empty.power_w, null);
    assert.equal(empty.power_source, null);
    assert.equal(empty.energy_wh, null);
    assert.equal(empty.temp_chip_max_c, null);
    assert.equal(empty.polls_ok, 0);
    assert.equal(pts[2]!.energy_wh, 3000 * (600 / 3600));
    assert.deepEqual(store.rigIds(), [rig]);
    assert.throws(
      () => store.history({ rigId: rig, fromMs: T0, toMs: T0 - 1, stepS: 60 }),
      (e: unknown) => (e as RtError).code === 'RT_ERR_STORE_BAD_QUERY',
    );
    await store.close();
  });

  it('serves older history from hourly rollups once raw samples are pruned', async () => {
    clock = T0;
    const store = open({ rawRetentionHours: 1 });
    const rig = 'aa:bb:cc:dd:ee:04';
    await store.write(series(T0, T0 + 3_600_000, { rig }));
    clock = T0 + 5 * 3_600_000;
    const pruned = store.prune();
    assert.equal(pruned.raw, 121);
    const pts = store.history({ rigId: rig, fromMs: T0 - 3_600_000, toMs: T0 + 3 * 3_600_000, stepS: 3600 });
    assert.deepEqual(
      pts.map((p) => p.polls),
      [0, 120, 1, 0],
    );
    assert.equal(pts[1]!.energy_wh, 3000);
    assert.equal(pts[1]!.hashrate_hs, 100e12);
    assert.equal(pts[1]!.mining_s, 3600);
    assert.equal(pts[0]!.energy_wh, null);
    await store.close();
  });

  it('refuses a corrupt database with a named error', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'store.db'), Buffer.alloc(4096, 0x5a));
    assert.throws(
      () =>
        EmbeddedStore.open(dir, {
          rawRetentionHours: 1,
          rollupRetentionDays: 1,
          intervalMs: 1000,
          backoffMaxMs: 0,
        }),
      (e: unknown) => (e as RtError).code === 'RT_ERR_STORE_CORRUPT',
    );
  });
});
