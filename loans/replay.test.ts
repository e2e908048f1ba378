/**
 * The reduced pledged-vs-seen replay (`EmbeddedLoanSource.replayWindow`, `LoanService.report`) against the replay it
 * replaced: every poll of the window read with `.all()`, each stored detail decoded per row, every poll through a
 * fresh `PledgeWatcher` (`referencePolls` below is that code, kept here as the reference). Real embedded stores
 * filled through `writeSync`: swaps (another MAC at a pledged address, a serial/MAC mismatch), a rig that stops
 * answering, a pledge never seen, a derated and a changed rig, unpledged rigs appearing, moving address, never
 * answering, answering at a pledged address before the pledged rig does, a poll with no stored detail, and polls
 * before the window. The signed report must be the same bytes either way; seeded random fleets must give the same
 * pledged and unpledged lists and sample count.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { normalizeMac } from '../collector/identity.js';
import { silentLogger } from '../collector/journal.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import type { Config } from '../config/schema.js';
import type { Sample } from '../protocols/sample.js';
import { loanTestConfig } from '../testing/loan-config.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { type PledgePoll, PledgeWatcher } from './pledges.js';
import { loadFacilities } from './register.js';
import { LoanService, RECONCILE_WINDOW_MS, REPORTS_WAITING_MAX } from './service.js';
import { EmbeddedLoanSource, type LoanDataSource, type ReplayWindow } from './source.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const STEP = 5 * 60_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');
const STEPS = 96; // 8 h: the report's window is the last 6 h (steps 24…95)
const TO = T0 + STEPS * STEP;

/** The replay's reads before the reduction: every row of the window, a detail decode per row. */
function referencePolls(store: EmbeddedStore, fromMs: number, toMs: number): PledgePoll[] {
  const rows = store.db
    .prepare(
      'SELECT rig_id, at_ms, ok, state, hashrate_hs FROM samples WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms, rig_id',
    )
    .all(fromMs, toMs) as {
    rig_id: string;
    at_ms: number;
    ok: number;
    state: string;
    hashrate_hs: number | null;
  }[];
  return rows.map((row) => {
    const d = (store.detail(row.rig_id, row.at_ms) ?? {}) as {
      identity?: Partial<Sample['identity']>;
      boards?: Sample['boards'];
      address?: string;
    };
    const boards = d.boards?.length ?? 0;
    return {
      rig_id: row.rig_id,
      address: d.address ?? row.rig_id,
      at_ms: row.at_ms,
      ok: row.ok === 1,
      state: row.state,
      hashrate_hs: row.hashrate_hs,
      identity: {
        serial: d.identity?.serial?.trim() || null,
        mac: normalizeMac(d.identity?.mac),
        model: d.identity?.model ?? null,
        firmware: d.identity?.firmware ?? null,
        boards: boards > 0 ? boards : null,
      },
    };
  });
}

/** The same store read as before: no `replayWindow`, so the report replays every poll of `referencePolls`. */
function referenceSource(store: EmbeddedStore): LoanDataSource {
  const embedded = new EmbeddedLoanSource(store);
  return {
    provenance: null,
    serials: true,
    hours: (a, b) => embedded.hours(a, b),
    polls: (a, b) => referencePolls(store, a, b),
  };
}

const mac = (i: number) => `aa:bb:cc:00:00:${i.toString(16).padStart(2, '0')}`;

function config(dir: string, pledges: Record<string, unknown>[]): Config {
  return loanTestConfig({
    dir,
    site: 'replay',
    intervalMs: STEP,
    pledges,
    covenants: {
      min_dscr: { threshold: 1.25 },
      max_ltv: { threshold: 0.8 },
      min_uptime: { threshold: 0.9 },
      min_units_online: { threshold: 0.9 },
    },
  });
}

function openStore(dir: string): EmbeddedStore {
  return EmbeddedStore.open(dir, {
    rawRetentionHours: 24 * 30,
    rollupRetentionDays: 3650,
    intervalMs: STEP,
    backoffMaxMs: 300_000,
    log: silentLogger,
    now: () => TO + HOUR,
  });
}

function up(
  rig: string,
  at: number,
  address: string,
  o: Partial<Sample['identity']>,
  extra: Partial<Sample> = {},
) {
  const s = makeSample(rig, at, { address, ...extra });
  return { ...s, identity: { ...s.identity, ...o } } as Sample;
}
function down(rig: string, at: number, address: string): Sample {
  return { ...offlineSample(rig, at), address } as Sample;
}

describe('loan report replay, reduced', () => {
  it('gives the same signed bytes as replaying every poll: swaps, missing, moves, unpledged, no detail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-replay-'));
    dirs.push(dir);
    const pledges = [
      { mac: mac(0), serial: 'S0', model: 'Antminer S19 Pro', nominal_ths: 110, nominal_w: 3250 },
      ...[1, 2, 3].map((i) => ({
        mac: mac(i),
        model: 'Antminer S19 Pro',
        nominal_ths: 110,
        nominal_w: 3250,
      })),
      { mac: mac(4), serial: 'S4', model: 'Antminer S19 Pro', nominal_ths: 110, nominal_w: 3250 },
      { mac: mac(5), model: 'Antminer S19 Pro', nominal_ths: 110, nominal_w: 3250 },
      { mac: mac(6), model: 'Antminer S19 Pro', nominal_ths: 110, nominal_w: 3250 },
      {
        mac: mac(7),
        model: 'Antminer S19 Pro',
        nominal_ths: 110,
        nominal_w: 3250,
        firmware: 'Antminer S19 Pro 2021',
      },
      { mac: mac(8), model: 'Antminer S19 Pro', nominal_ths: 110, nominal_w: 3250 },
    ];
    const store = openStore(dir);
    const batch: Sample[] = [];
    for (let k = 0; k < STEPS; k++) {
      const t = T0 + k * STEP;
      batch.push(up('rig-p0', t, '10.0.0.10:4028', { mac: mac(0), serial: 'S0' }));
      // p1: from step 60 its address answers with another MAC (a swap; same rig id).
      batch.push(up('rig-p1', t, '10.0.0.11:4028', { mac: k < 60 ? mac(1) : mac(0x91) }));
      // p2 stops answering at step 40.
      batch.push(
        k < 40 ? up('rig-p2', t, '10.0.0.12:4028', { mac: mac(2) }) : down('rig-p2', t, '10.0.0.12:4028'),
      );
      // p3 moves address at step 50.
      batch.push(up('rig-p3', t, k < 50 ? '10.0.0.13:4028' : '10.0.1.13:4028', { mac: mac(3) }));
      // p4: from step 70 the serial answers with another MAC (serial/MAC mismatch).
      batch.push(up('rig-p4', t, '10.0.0.14:4028', { mac: k < 70 ? mac(4) : mac(0x94), serial: 'S4' }));
      // p5 never answers. p6 hashes at a third of nameplate from step 30.
      batch.push(up('rig-p6', t, '10.0.0.16:4028', { mac: mac(6) }, k >= 30 ? { hashrate_hs: 36e12 } : {}));
      // p7's firmware changes at step 20 (before the window).
      batch.push(
        up('rig-p7', t, '10.0.0.17:4028', { mac: mac(7), firmware: k < 20 ? undefined : 'hacked 1.0' }),
      );
      // p8's address answers first as an unpledged rig (x8), then as p8 from step 40, then as x8 again from 80.
      if (k < 40 || k >= 80) batch.push(up('rig-x8', t, '10.0.0.18:4028', { mac: mac(0x98) }));
      else batch.push(up('rig-p8', t, '10.0.0.18:4028', { mac: mac(8) }));
      // Unpledged: u0…u3 always, u4 from step 50, u5 never answers, u6 answers from step 30 and moves at 60,
      // u7 answers "offline" (ok, state offline) until step 35.
      for (let u = 0; u < 4; u++) batch.push(up(`rig-u${u}`, t, `10.0.2.${u}:4028`, { mac: mac(0x40 + u) }));
      if (k >= 50) batch.push(up('rig-u4', t, '10.0.2.4:4028', { mac: mac(0x44) }));
      batch.push(down('rig-u5', t, '10.0.2.5:4028'));
      if (k < 30) batch.push(down('rig-u6', t, '10.0.2.6:4028'));
      else batch.push(up('rig-u6', t, k < 60 ? '10.0.2.6:4028' : '10.0.3.6:4028', { mac: mac(0x46) }));
      batch.push(up('rig-u7', t, '10.0.2.7:4028', { mac: mac(0x47) }, k < 35 ? { state: 'offline' } : {}));
    }
    store.writeSync(batch.map((sample, i) => ({ seq: i + 1, sample })));
    // Polls with no stored detail (address: the rig id; no identity).
    const rig = Number(
      store.db.prepare("INSERT INTO rigs (rig_id) VALUES ('rig-bare')").run().lastInsertRowid,
    );
    const bare = store.db.prepare(
      'INSERT INTO readings (rig, at_ms, seq, ok, state, hashrate_hs, shape, nums) VALUES (?, ?, ?, 1, 0, 1e14, NULL, NULL)',
    );
    for (let k = 10; k < STEPS; k += 7) bare.run(rig, T0 + k * STEP, 1_000_000 + k);

    const cfg = config(dir, pledges);
    const fresh = new LoanService({ config: cfg, store, now: () => TO + HOUR });
    const mine = fresh.report('L1', T0, TO);
    const mineAsync = await fresh.reportAsync('L1', T0, TO);
    fresh.close();
    const old = new LoanService({ config: cfg, source: referenceSource(store), now: () => TO + HOUR });
    const reference = await old.reportAsync('L1', T0, TO);
    old.close();

    assert.equal(mine.bytes, reference.bytes);
    assert.equal(mineAsync.bytes, reference.bytes);
    // The scenario did what it says (so the equality above covers each case).
    const b = mine.doc.body;
    const status = Object.fromEntries(b.rigs.map((r) => [r.mac, r.status]));
    assert.deepEqual(status, {
      [mac(0)]: 'seen',
      [mac(1)]: 'swapped',
      [mac(2)]: 'missing',
      [mac(3)]: 'seen',
      [mac(4)]: 'swapped',
      [mac(5)]: 'missing',
      [mac(6)]: 'derated',
      [mac(7)]: 'changed',
      [mac(8)]: 'swapped',
    });
    const unpledged = Object.fromEntries(b.reconciliation.unpledged.map((u) => [u.rig_id, u]));
    assert.deepEqual(Object.keys(unpledged).sort(), [
      'rig-bare',
      'rig-u0',
      'rig-u1',
      'rig-u2',
      'rig-u3',
      'rig-u4',
      'rig-u6',
      'rig-u7',
      'rig-x8',
    ]);
    assert.equal(unpledged['rig-u6']!.address, '10.0.2.6:4028');
    assert.equal(unpledged['rig-u7']!.first_seen, new Date(T0 + 35 * STEP).toISOString());
    assert.equal(unpledged['rig-bare']!.address, 'rig-bare');
    const windowFrom = TO - RECONCILE_WINDOW_MS;
    assert.equal(b.reconciliation.window.samples, referencePolls(store, windowFrom, TO).length);
    await store.close();
  });

  it('seeded random fleets: the same pledged and unpledged lists and sample count as replaying every poll', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const dir = mkdtempSync(join(tmpdir(), 'rigtel-replay-'));
      dirs.push(dir);
      let x = seed >>> 0;
      const rand = (n: number) => {
        // mulberry32
        x = (x + 0x6d2b79f5) >>> 0;
        let z = Math.imul(x ^ (x >>> 15), 1 | x);
        z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
        return ((z ^ (z >>> 14)) >>> 0) % n;
      };
      const rigs = 24;
      // Identities: 32 MACs, the first 6 pledged (some with a serial); rigs pick among them and among 30 addresses
      // at random, so identities wander between rigs and addresses, answer, fail, or answer "offline".
      const pledges = Array.from({ length: 6 }, (_, i) => ({
        mac: mac(i),
        ...(i % 3 === 0 ? { serial: `S${i}` } : {}),
        model: 'Antminer S19 Pro',
        nominal_ths: 110,
        nominal_w: 3250,
      }));
      const store = openStore(dir);
      const batch: Sample[] = [];
      const ident = Array.from({ length: rigs }, () => rand(32));
      const addr = Array.from({ length: rigs }, () => rand(30));
      for (let k = 0; k < STEPS; k++) {
        const t = T0 + k * STEP;
        for (let r = 0; r < rigs; r++) {
          if (rand(40) === 0) ident[r] = rand(32);
          if (rand(40) === 0) addr[r] = rand(30);
          if (rand(6) === 0) continue; // not polled this step
          const address = `10.9.0.${addr[r]}:4028`;
          const m = ident[r]!;
          const roll = rand(10);
          if (roll === 0) batch.push(down(`rig-${r}`, t, address));
          else
            batch.push(
              up(
                `rig-${r}`,
                t,
                address,
                { mac: mac(m), serial: m % 3 === 0 && rand(4) > 0 ? `S${m}` : null },
                roll === 1 ? { state: 'offline' } : roll === 2 ? { hashrate_hs: 20e12 } : {},
              ),
            );
        }
      }
      store.writeSync(batch.map((sample, i) => ({ seq: i + 1, sample })));
      const [f] = loadFacilities(config(dir, pledges).loans, '.');
      const windowFrom = TO - RECONCILE_WINDOW_MS;
      const ref = new PledgeWatcher(f!, windowFrom);
      const all = referencePolls(store, windowFrom, TO);
      for (const p of all) ref.observePoll(p);
      // Small slices (a few polls each, and their boundaries cutting through one time step) as well as one.
      const w = new EmbeddedLoanSource(store).replayWindow(
        windowFrom,
        TO,
        (id) => new PledgeWatcher(f!, windowFrom).matchesPledge(id),
        { sliceRows: seed % 2 ? 7 : 100_000 },
      ) as ReplayWindow;
      const mine = new PledgeWatcher(f!, windowFrom);
      const replayed = [...(w.polls as Iterable<PledgePoll>)];
      for (const p of replayed) mine.observePoll(p);
      for (const u of w.others) mine.mergeUnpledged(u);
      assert.equal(w.samples, all.length, `seed ${seed}: samples`);
      assert.ok(replayed.length < all.length, `seed ${seed}: some polls are not replayed`);
      assert.deepEqual(mine.pledged(), ref.pledged(), `seed ${seed}: pledged`);
      assert.deepEqual(mine.unpledged(), ref.unpledged(), `seed ${seed}: unpledged`);
      await store.close();
    }
  });
});

describe('loan reports on the API path, one at a time', () => {
  it('builds one report at a time, shares one asked twice, and refuses past REPORTS_WAITING_MAX', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-replay-queue-'));
    dirs.push(dir);
    const pledges = [0, 1, 2].map((i) => ({
      mac: mac(i),
      model: 'Antminer S19 Pro',
      nominal_ths: 110,
      nominal_w: 3250,
    }));
    const store = openStore(dir);
    const batch: Sample[] = [];
    for (let k = 0; k < STEPS; k++)
      for (let i = 0; i < 6; i++)
        batch.push(up(`rig-${i}`, T0 + k * STEP, `10.0.2.${i}:4028`, { mac: mac(i) }));
    store.writeSync(batch.map((sample, i) => ({ seq: i + 1, sample })));
    const cfg = config(dir, pledges);
    // The store's own source, with each replay's start recorded (a real source, counted, not replaced).
    const source = new EmbeddedLoanSource(store);
    const events: string[] = [];
    const replayWindow = source.replayWindow.bind(source) as (...args: unknown[]) => unknown;
    source.replayWindow = ((...args: unknown[]) => {
      events.push('start');
      return replayWindow(...args);
    }) as typeof source.replayWindow;
    const service = new LoanService({ config: cfg, source, now: () => TO + HOUR });
    try {
      // The same loan and period asked twice while it is built: one replay, the same bytes.
      const [a, b] = await Promise.all([
        service.reportAsync('L1', T0, TO),
        service.reportAsync('L1', T0, TO),
      ]);
      assert.equal(a.bytes, b.bytes);
      assert.deepEqual(events, ['start']);

      // REPORTS_WAITING_MAX + 1 periods at once: the last is refused at once, the others are built one at a time.
      events.length = 0;
      const periods = Array.from({ length: REPORTS_WAITING_MAX + 1 }, (_, i) => TO - i * STEP);
      const settled = await Promise.allSettled(
        periods.map((to) =>
          service.reportAsync('L1', T0, to).then((r) => {
            events.push('end');
            return r;
          }),
        ),
      );
      const refused = settled.filter((s) => s.status === 'rejected');
      assert.equal(refused.length, 1);
      assert.equal((refused[0] as PromiseRejectedResult).reason.code, 'RT_ERR_LOAN_BUSY');
      assert.equal((refused[0] as PromiseRejectedResult).reason.status ?? 503, 503);
      assert.equal(settled.at(-1)?.status, 'rejected', 'the one past the bound is refused');
      assert.deepEqual(events, Array(REPORTS_WAITING_MAX).fill(['start', 'end']).flat(), 'never two at once');
      // Each of the built reports is the one its period gives alone.
      const alone = await service.reportAsync('L1', T0, periods[1]!);
      assert.equal((settled[1] as PromiseFulfilledResult<{ bytes: string }>).value.bytes, alone.bytes);
      // Once they are done, the queue takes reports again; an unknown loan is refused as before.
      await assert.rejects(service.reportAsync('nope', T0, TO), { code: 'RT_ERR_LOAN_NOT_FOUND' });
    } finally {
      service.close();
      await store.close();
    }
  });
});
