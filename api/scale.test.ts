// The API at fleet scale: one snapshot shared by requests, capped lists with a link, pages, ETags, staleness
// and skipped polls — over the real Fleet and a real Scheduler.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Fleet } from '../collector/fleet.js';
import { pollRig, type RigTarget } from '../collector/poll.js';
import { Scheduler } from '../collector/scheduler.js';
import type { HistoryStore } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import type { MinerDriver } from '../protocols/driver.js';
import { ProtoErrors } from '../protocols/errors.js';
import { emptyReading, RIG_STATES, type Sample } from '../protocols/sample.js';
import { buildApp } from './app.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const RIGS = 2500;

function target(i: number): RigTarget {
  return {
    name: `r${String(i).padStart(5, '0')}`,
    address: `127.0.0.1:${20_000 + i}`,
    target: {
      host: '127.0.0.1',
      port: 20_000 + i,
      family: 'antminer',
      connectTimeoutMs: 100,
      commandTimeoutMs: 100,
      maxReplyBytes: 1024,
    },
  };
}

/** Rig i hashes at (i % 100)% of a 100 TH/s nameplate when i is even, at nameplate when odd. */
function sample(t: RigTarget, i: number, atMs: number): Sample {
  const r = emptyReading('antminer');
  return {
    ...r,
    state: 'mining',
    hashrate_hs: i % 2 === 0 ? (i % 100) * 1e12 : 100e12,
    hashrate_nominal_hs: 100e12,
    power_w: 3000,
    power_source: 'miner',
    v: 1,
    rig_id: t.name!,
    site: 's',
    address: t.address,
    at_ms: atMs,
    power_miner_w: 3000,
    energy_wh: null,
    poll: { ok: true, duration_ms: 10, error_code: null, error_message: null },
  };
}

const targets = Array.from({ length: RIGS }, (_, i) => target(i));
const fleet = new Fleet(targets);
// Rig 0 never answers: no age; the others answered 30 s ago.
for (let i = 1; i < RIGS; i++) fleet.update(sample(targets[i]!, i, NOW - 30_000));
const belowCount = targets.filter((_, i) => i > 0 && i % 2 === 0 && i % 100 < 90).length;

// A real scheduler with one dead rig: its third slot is sat out in backoff.
let clock = NOW;
const refused: MinerDriver = {
  family: 'antminer',
  poll: async () => {
    throw ProtoErrors.connectRefused('x');
  },
};
const scheduler = new Scheduler(
  [target(0)],
  (t, signal) => pollRig(t, refused, { deadlineMs: 1000, now: () => clock, site: 's', signal }),
  () => {},
  { intervalMs: 15_000, concurrency: 1, backoffMaxMs: 60_000, jitter: 0, now: () => clock },
);

const history: HistoryStore = { history: () => [], rigIds: () => [] };
const app = buildApp({
  fleet,
  history,
  health: {
    started_ms: NOW - 60_000,
    sinks: () => [],
    polling: () => ({
      rigs: RIGS,
      up: fleet.upCount(),
      last_sweep_ms: NOW,
      last_sweep_duration_ms: 100,
      polls: scheduler.stats(),
    }),
  },
  config: validateConfig({}),
  now: () => NOW,
});

before(async () => {
  // Fails at 0 s and 15 s (backoff 1, then 2 intervals): the slot at 30 s is sat out.
  for (let i = 0; i < 3; i++) {
    await scheduler.runRound();
    clock += 15_000;
  }
});
after(async () => {
  await scheduler.stop();
  await app.close();
});

describe('API at fleet scale', () => {
  test('fleet summary: below-nameplate list capped with its count and a link to the whole list', async () => {
    const res = await app.inject('/v1/fleet');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.rigs, RIGS);
    assert.equal(body.below_nameplate.count, belowCount);
    assert.equal(body.below_nameplate.rigs.length, 20);
    assert.equal(body.below_nameplate.rigs[0].share, 0);
    const more = await app.inject(`${body.below_nameplate.more}&limit=100000`);
    const all = more.json();
    assert.equal(all.matched, belowCount);
    assert.deepEqual(
      all.rigs.slice(0, 20).map((r: { rig_id: string }) => r.rig_id),
      body.below_nameplate.rigs.map((r: { rig_id: string }) => r.rig_id),
      'the capped list is the head of the linked one',
    );
    const limited = (await app.inject('/v1/fleet?below_limit=3')).json();
    assert.equal(limited.below_nameplate.rigs.length, 3);
  });

  test('ETag: unchanged fleet → 304 without a body; a new sample → a new tag', async () => {
    const first = await app.inject('/v1/fleet');
    const etag = first.headers.etag as string;
    assert.match(etag, /^".+"$/);
    const again = await app.inject({ url: '/v1/fleet', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const rigs = await app.inject('/v1/rigs?limit=10');
    const rigsAgain = await app.inject({
      url: '/v1/rigs?limit=10',
      headers: { 'if-none-match': rigs.headers.etag as string },
    });
    assert.equal(rigsAgain.statusCode, 304);
    fleet.update({ ...sample(targets[0]!, 0, NOW - 1000), hashrate_hs: 100e12 });
    // A fleet this size is rebuilt at most once a second.
    await new Promise((r) => setTimeout(r, 1100));
    const changed = await app.inject({ url: '/v1/fleet', headers: { 'if-none-match': etag } });
    assert.equal(changed.statusCode, 200);
    assert.notEqual(changed.headers.etag, etag);
    assert.equal(changed.json().states.mining, RIGS);
  });

  test('rigs come in pages that cover every rig exactly once, each with its staleness', async () => {
    const seen = new Set<string>();
    let url: string | null = '/v1/rigs?limit=700';
    let pages = 0;
    while (url) {
      const body = (await app.inject(url)).json() as {
        total: number;
        returned: number;
        next: string | null;
        rigs: Array<{ rig_id: string; age_s: number | null; last_answered_ms: number | null }>;
      };
      pages += 1;
      assert.equal(body.total, RIGS);
      for (const r of body.rigs) {
        assert.ok(!seen.has(r.rig_id), `${r.rig_id} listed once`);
        seen.add(r.rig_id);
        if (r.rig_id === 'r00000') continue;
        assert.equal(r.last_answered_ms, NOW - 30_000);
        assert.equal(r.age_s, 30);
      }
      url = body.next;
    }
    assert.equal(pages, 4);
    assert.equal(seen.size, RIGS);
    const stalest = (await app.inject('/v1/rigs?sort=age&limit=2')).json();
    assert.equal(stalest.rigs[1].age_s, 30);
    const bad = await app.inject('/v1/rigs?offset=-1');
    assert.equal(bad.statusCode, 400);
  });

  test('skipped polls by reason in /metrics and /v1/status; rig age in /metrics', async () => {
    const metrics = (await app.inject('/metrics')).body.split('\n');
    assert.ok(
      metrics.includes('rigtel_polls_skipped_total{reason="backoff"} 1'),
      'the dead rig sat one slot out',
    );
    assert.ok(metrics.includes('rigtel_polls_skipped_total{reason="skipped_busy"} 0'));
    assert.ok(metrics.includes('rigtel_polls_due_total 3'));
    assert.ok(metrics.includes('rigtel_rig_age_seconds{rig_id="r00001"} 30'));
    const status = (await app.inject('/v1/status')).json();
    assert.deepEqual(status.polls.skipped, { skipped_busy: 0, deadline: 0, backoff: 1 });
    assert.equal(status.polls.started, 2);
  });

  test('/metrics over a socket comes in chunks of whole lines, every rig in every family, nothing cut', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const { chunks, body, headers } = await new Promise<{
      chunks: number;
      body: string;
      headers: Record<string, unknown>;
    }>((resolve, reject) => {
      get(`${address}/metrics`, (res) => {
        let n = 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          n += 1;
          text += c;
        });
        res.on('end', () => resolve({ chunks: n, body: text, headers: res.headers }));
      }).on('error', reject);
    });
    // Streamed: no Content-Length, so the body was never one string (at 10,000 rigs it would be ~40 MB).
    assert.equal(headers['transfer-encoding'], 'chunked');
    assert.ok(chunks > 1, `the body came in ${chunks} chunk(s)`);
    const lines = body.split('\n');
    assert.equal(lines.at(-1), '', 'ends with a newline');
    const up = lines.filter((l) => l.startsWith('rigtel_rig_up{'));
    assert.equal(up.length, RIGS);
    assert.equal(lines.filter((l) => l.startsWith('rigtel_rig_state{')).length, RIGS * RIG_STATES.length);
    assert.equal(
      lines.filter((l) => l.startsWith('rigtel_rig_age_seconds{')).length,
      fleet.list().filter((r) => r.last_seen_ms !== null).length,
    );
    // Every line whole: a sample line is `name{labels} value` or `name value`.
    for (const l of lines.slice(0, -1))
      assert.match(l, /^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{.*\})? -?[0-9.e+-]+)$/, l);
    assert.ok(
      lines.includes('rigtel_rig_up{rig="r00001",name="r00001",site="site-1",row="",rack="",model=""} 1'),
    );
  });
});
