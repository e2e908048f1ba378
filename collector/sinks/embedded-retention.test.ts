import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startEmulatedFleet } from '../../protocols/emulator/fleet.js';
import { driverFor } from '../../protocols/registry.js';
import type { Sample } from '../../protocols/sample.js';
import { pollRig } from '../poll.js';
import { EmbeddedStore, joinDetail, splitDetail } from './embedded.js';
import type { JournalEntry } from './sink.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rigtel-retention-'));
  dirs.push(d);
  return d;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One real sample per emulated personality of the mixed fleet, polled over loopback. */
let templates: Sample[] = [];
before(async () => {
  const fleet = await startEmulatedFleet({ count: 12, mix: 'mixed', seed: 11 });
  try {
    templates = await Promise.all(
      fleet.rigs.map((rig) =>
        pollRig(
          {
            name: rig.name,
            address: rig.address,
            target: {
              host: rig.host,
              port: rig.port,
              family: rig.family,
              connectTimeoutMs: 2000,
              commandTimeoutMs: 4000,
              maxReplyBytes: 1 << 20,
            },
          },
          driverFor(rig.family),
          { deadlineMs: 8000, now: Date.now, site: 'retention' },
        ),
      ),
    );
  } finally {
    await fleet.stop();
  }
});

/** The template at a later time, its figures moved a little as a running rig's do. */
function at(t: Sample, atMs: number, k: number): Sample {
  const wobble = (v: number | null) => (v === null ? null : Math.round(v * (1 + ((k * 7919) % 97) / 5000)));
  return {
    ...t,
    at_ms: atMs,
    hashrate_hs: wobble(t.hashrate_hs),
    uptime_s: t.uptime_s === null ? null : t.uptime_s + k * 600,
    boards: t.boards.map((b) => ({
      ...b,
      hashrate_hs: wobble(b.hashrate_hs),
      hw_errors: (b.hw_errors ?? 0) + k,
    })),
    fans: t.fans.map((f) => ({ ...f, rpm: f.rpm === null ? null : f.rpm + (k % 40) })),
    pools: t.pools.map((p) => ({ ...p, accepted: p.accepted === null ? null : p.accepted + k })),
    poll: { ...t.poll, duration_ms: 20 + (k % 13) },
  };
}

describe('embedded store on a small disk', () => {
  it('a detail splits into shape and numbers and joins back unchanged', () => {
    assert.ok(templates.length === 12 && templates.every((t) => t.poll.ok), 'every emulated rig answered');
    for (const t of templates) {
      const { shape, nums } = splitDetail({ identity: t.identity, boards: t.boards, pools: t.pools });
      assert.deepEqual(joinDetail(shape, nums), { identity: t.identity, boards: t.boards, pools: t.pools });
    }
  });

  it('a month of a mixed fleet under a size cap: under the cap, oldest first, ≤ 400 B a sample, short steps', async () => {
    const rigs = 12;
    const step = 10 * 60_000; // one sample per rig every 10 minutes: 1,728 a day
    const capBytes = 3 * 1024 * 1024;
    const t0 = Date.UTC(2026, 0, 1);
    let now = t0;
    const dir = tmp();
    const store = EmbeddedStore.open(dir, {
      rawRetentionHours: 24 * 365,
      rollupRetentionDays: 3650,
      intervalMs: step,
      backoffMaxMs: step,
      maxBytes: capBytes,
      now: () => now,
    });
    after(() => store.close());
    assert.equal(store.db.pragma('auto_vacuum', { simple: true }), 2, 'incremental auto-vacuum');
    // As the fan-out does: open() starts pruning on a timer and checkpoints in a worker.
    await store.open();
    let seq = 0;
    let written = 0;
    let bytesPerSample: number | null = null;
    let maxGapMs = 0;
    for (let day = 0; day < 30; day++) {
      const batch: JournalEntry[] = [];
      for (let t = 0; t < DAY; t += step) {
        const k = (day * DAY + t) / step;
        for (let r = 0; r < rigs; r++) {
          const tpl = templates[r]!;
          batch.push({ seq: ++seq, sample: at({ ...tpl, rig_id: `rig-${r}` }, t0 + day * DAY + t, k) });
        }
      }
      for (let i = 0; i < batch.length; i += 256) {
        // As the fan-out delivers: a batch at a time, the loop free in between.
        await store.write(batch.slice(i, i + 256));
        await new Promise((r) => setImmediate(r));
      }
      written += batch.length;
      now = t0 + (day + 1) * DAY;
      // Before the cap is first reached: what one sample costs on disk (rows + index + pages, rollups included).
      if (bytesPerSample === null && store.usedBytes() > capBytes * 0.7)
        bytesPerSample = store.usedBytes() / written;
      // The prune pass runs while a timer measures how long the loop was kept from it.
      let last = performance.now();
      const probe = setInterval(() => {
        const t = performance.now();
        maxGapMs = Math.max(maxGapMs, t - last);
        last = t;
      }, 1);
      await store.pruneInSteps(now);
      clearInterval(probe);
      assert.ok(store.fileBytes() <= capBytes, `day ${day}: file ${store.fileBytes()} B within the cap`);
    }
    const rows = store.db
      .prepare('SELECT COUNT(*) AS n, MIN(at_ms) AS first, MAX(at_ms) AS last FROM samples')
      .get() as {
      n: number;
      first: number;
      last: number;
    };
    assert.ok(rows.first > t0 + DAY, 'the first days were pruned');
    assert.equal(rows.last, t0 + 30 * DAY - step, 'the newest samples are all there');
    // Oldest went first: everything from the oldest kept sample on is still there, for every rig.
    const span = (rows.last - rows.first) / step + 1;
    assert.ok(Math.abs(rows.n - span * rigs) <= rigs, `no holes: ${rows.n} rows over ${span} steps`);
    // Hourly rollups are kept whatever the size (their meaning is unchanged).
    const firstHour = store.rollups('rig-0', t0, t0 + HOUR);
    assert.equal(firstHour.length, 1);
    assert.equal(firstHour[0]!.polls, 6);
    assert.ok(store.pruneStats.raw_deleted > 0 && store.pruneStats.pages_vacuumed > 0);
    assert.ok(bytesPerSample !== null && bytesPerSample <= 400, `${bytesPerSample?.toFixed(0)} B per sample`);
    // The bound is on the work a step does (its CPU time): on a shared 2-core box its wall time also holds the
    // time spent waiting for a core, which the step does not cause (the wall figures are printed below).
    assert.ok(
      store.pruneStats.max_step_cpu_ms < 50,
      `longest prune step ${store.pruneStats.max_step_cpu_ms.toFixed(1)} ms CPU`,
    );
    await store.close();
    // On disk after the last checkpoint (close), the file itself is within the cap.
    assert.ok(statSync(join(dir, 'store.db')).size <= capBytes);
    console.log(
      `month: ${written} samples written, ${rows.n} kept, ${bytesPerSample!.toFixed(0)} B/sample, ` +
        `longest prune step ${store.pruneStats.max_step_cpu_ms.toFixed(1)} ms CPU / ${store.pruneStats.max_step_ms.toFixed(1)} ms wall, ` +
        `longest loop gap during a pass ${maxGapMs.toFixed(1)} ms, ${store.pruneStats.steps} steps`,
    );
  });

  it('migrates a store file of the old layout: history and detail kept, file switched to incremental vacuum', async () => {
    const dir = tmp();
    const file = join(dir, 'store.db');
    const old = new Database(file);
    old.exec(`
      CREATE TABLE samples (rig_id TEXT NOT NULL, at_ms INTEGER NOT NULL, seq INTEGER NOT NULL, ok INTEGER NOT NULL,
        state TEXT NOT NULL, hashrate_hs REAL, power_w REAL, power_source TEXT, temp_chip_max_c REAL,
        temp_board_max_c REAL, error_code TEXT, detail TEXT NOT NULL, PRIMARY KEY (rig_id, at_ms)) WITHOUT ROWID;
      CREATE INDEX samples_at ON samples (at_ms);
      CREATE TABLE rig_last (rig_id TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, ok INTEGER NOT NULL,
        state TEXT NOT NULL, power_w REAL, first_ms INTEGER NOT NULL);`);
    const t0 = Date.UTC(2026, 2, 1);
    const put = old.prepare('INSERT INTO samples VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
    const detail = { identity: templates[0]!.identity, boards: templates[0]!.boards, uptime_s: 77 };
    for (let i = 0; i < 10; i++) {
      put.run(
        'rig-a',
        t0 + i * 60_000,
        i + 1,
        1,
        'mining',
        1e14 + i,
        3000,
        'miner',
        70,
        60,
        null,
        JSON.stringify(detail),
      );
    }
    put.run('rig-a', t0 + 10 * 60_000, 11, 0, 'offline', null, null, null, null, null, 'RT_ERR_X', '{}');
    old
      .prepare('INSERT INTO rig_last VALUES (?,?,?,?,?,?)')
      .run('rig-a', t0 + 10 * 60_000, 0, 'offline', null, t0);
    old.close();

    const store = EmbeddedStore.open(dir, {
      rawRetentionHours: 24 * 365,
      rollupRetentionDays: 3650,
      intervalMs: 60_000,
      backoffMaxMs: 60_000,
      now: () => t0 + HOUR,
    });
    assert.equal(store.db.pragma('auto_vacuum', { simple: true }), 2);
    const rows = store.db.prepare('SELECT * FROM samples ORDER BY at_ms').all() as Record<string, unknown>[];
    assert.equal(rows.length, 11);
    assert.equal(rows[3]!.state, 'mining');
    assert.equal(rows[3]!.power_source, 'miner');
    assert.equal(rows[3]!.hashrate_hs, 1e14 + 3);
    assert.equal(rows[10]!.state, 'offline');
    assert.equal(rows[10]!.error_code, 'RT_ERR_X');
    assert.deepEqual(store.detail('rig-a', t0 + 60_000), detail);
    const h = store.history({ rigId: 'rig-a', fromMs: t0, toMs: t0 + HOUR, stepS: 3600 });
    assert.equal(h[0]!.polls, 11);
    assert.equal(h[0]!.polls_ok, 10);
    assert.equal(
      (
        store.db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'samples_v1'").get() as {
          n: number;
        }
      ).n,
      0,
    );
    await store.close();
  });
});
