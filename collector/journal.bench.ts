/**
 * Journal throughput: single-sample appends (one commit each, the worst case) and batched appends (how the
 * runtime appends: a group of samples per commit), with fsync always and off.
 * Run: node --import tsx collector/journal.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyBoard, emptyReading, type Sample } from '../protocols/sample.js';
import { Journal } from './journal.js';
import { toSample } from './poll.js';

export interface JournalBench {
  /** Single-sample appends per second (one commit each). */
  appends_per_s_fsync: number;
  appends_per_s_nofsync: number;
  /** Samples per second appended in groups of `batch`. */
  batched_samples_per_s_fsync: number;
  batched_samples_per_s_nofsync: number;
  batch: number;
  sample_bytes: number;
}

/** A realistic S19-sized sample: 3 boards, 4 fans, 3 pools. */
function sample(i: number): Sample {
  const r = emptyReading('antminer');
  r.state = 'mining';
  r.hashrate_hs = 104e12 + i;
  r.hashrate_avg_hs = 103e12;
  r.temp_chip_max_c = 78;
  r.power_w = 3250;
  r.power_source = 'miner';
  r.identity = { ...r.identity, make: 'Bitmain', model: 'Antminer S19 Pro', mac: 'aa:bb:cc:dd:ee:ff' };
  r.boards = [0, 1, 2].map((b) => ({ ...emptyBoard(b), hashrate_hs: 34e12, temp_chip_c: 78, chips: 114 }));
  r.fans = [0, 1, 2, 3].map((f) => ({ index: f, rpm: 5400 }));
  r.pools = [0, 1, 2].map((p) => ({
    index: p,
    url: `stratum+tcp://pool${p}.example:3333`,
    user: 'acct.worker',
    status: 'Alive',
    active: p === 0,
    accepted: 1000 + i,
    rejected: 3,
    stale: 1,
  }));
  return toSample(r, {
    rigId: `rig-${i % 1000}`,
    site: 'bench',
    address: '10.0.0.1:4028',
    atMs: Date.now(),
    ok: true,
    durationMs: 12,
    error: null,
  });
}

function rate(fsync: 'always' | 'off', perCommit: number, budgetMs: number, maxCommits: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-jbench-'));
  try {
    const j = Journal.open(dir, { fsync, maxBytes: 4 * 1024 ** 3 });
    const samples = Array.from({ length: perCommit }, (_, i) => sample(i));
    let commits = 0;
    const t0 = performance.now();
    while (commits < maxCommits && performance.now() - t0 < budgetMs) {
      j.append(samples);
      commits += 1;
    }
    const s = (performance.now() - t0) / 1000;
    j.close();
    return Math.round((commits * perCommit) / s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runJournalBench(
  opts: { budgetMs?: number; batch?: number } = {},
): Promise<JournalBench> {
  const budget = opts.budgetMs ?? 1500;
  const batch = opts.batch ?? 256;
  return {
    appends_per_s_fsync: rate('always', 1, budget, 200_000),
    appends_per_s_nofsync: rate('off', 1, budget, 200_000),
    batched_samples_per_s_fsync: rate('always', batch, budget, 5_000),
    batched_samples_per_s_nofsync: rate('off', batch, budget, 5_000),
    batch,
    sample_bytes: Buffer.byteLength(JSON.stringify(sample(1))),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runJournalBench();
  console.log(JSON.stringify(r, null, 2));
}
