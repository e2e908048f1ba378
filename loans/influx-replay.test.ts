/**
 * The reduced pledged-vs-seen replay from InfluxDB (`InfluxLoanSource.replayWindow`) against the full read it
 * replaced (`referencePolls` below: the code of `InfluxLoanSource.polls` before the reduction, kept here as the
 * reference), on a real influxd, same run, same data. Points are written with the line protocol so the data can
 * hold what the sink never writes as well as what it does: pledged rigs (seen, model swapped, stopped answering,
 * firmware changed, derated, a rig id that is a MAC in another spelling, a pledged rig replaced by another MAC),
 * unpledged rigs appearing, disappearing, never answering, a rig id that is no MAC, poll rows without readings,
 * readings without poll rows, a reading before the first answering poll, readings tagged offline, more polls or
 * readings than the per-rig LIMIT, and polls before the window. The signed report must be the same bytes either
 * way (with and without the state tag); the replay must read in full only the pledged rigs and the few the
 * aggregates cannot stand for.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { normalizeMac } from '../collector/identity.js';
import { InfluxReader, ms, num, rowsOf } from '../collector/influx-read.js';
import type { Config } from '../config/schema.js';
import { type InfluxSinkConfig, influxSinkSchema } from '../config/sections/sinks.js';
import { type Influxd, startInfluxd } from '../testing/influxd.js';
import { loanTestConfig } from '../testing/loan-config.js';
import { InfluxLoanSource } from './influx-source.js';
import { type PledgePoll, PledgeWatcher } from './pledges.js';
import { loadFacilities } from './register.js';
import { LoanService, RECONCILE_WINDOW_MS } from './service.js';
import type { LoanDataSource } from './source.js';

const HOUR = 3_600_000;
const STEP = 60_000;
const STEPS = 480; // 8 h; the report's window is the last 6 h (steps 120…479)
const T0 = Date.parse('2026-11-02T00:00:00Z');
const TO = T0 + STEPS * STEP;
const DB = 'rt_influx_replay';
const MODEL = 'Antminer S19 Pro';
const mac = (i: number) => `aa:bb:cc:00:00:${i.toString(16).padStart(2, '0')}`;

let influxd: Influxd;
const dirs: string[] = [];
before(async () => {
  influxd = await startInfluxd();
});
after(async () => {
  await influxd?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sinkCfg = (tags?: string[]): InfluxSinkConfig =>
  influxSinkSchema.parse({
    url: influxd.url,
    database: DB,
    measurement_prefix: 'rt_',
    timeout_ms: 30_000,
    ...(tags ? { tags } : {}),
  });

/** The replay's read before the reduction: every rig's polls of the window in one query (InfluxLoanSource.polls). */
async function referencePolls(
  cfg: InfluxSinkConfig,
  intervalMs: number,
  fromMs: number,
  toMs: number,
): Promise<PledgePoll[]> {
  const influx = new InfluxReader(cfg);
  const stateTag = cfg.tags.includes('state');
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
  if (!(toMs > fromMs)) return [];
  const limit = Math.ceil(((toMs - fromMs) / intervalMs) * 4) + 100;
  const where = `WHERE time >= ${ms(fromMs)} AND time < ${ms(toMs)}`;
  const bounds = `GROUP BY "rig" LIMIT ${limit} SLIMIT 20000`;
  const [polls, rigs] = await influx.query(
    [
      `SELECT "up" FROM ${influx.from('poll')} ${where} ${bounds}`,
      `SELECT "hashrate_hs", "board_count", "state", "model", "firmware" FROM ${influx.from('rig')} ${where} ${bounds}`,
    ],
    {},
  );
  const readings = new Map<string, Record<string, unknown>>();
  for (const s of rigs ?? []) {
    const rig = s.tags?.rig;
    if (rig === undefined) continue;
    for (const r of rowsOf([s])) readings.set(`${Number(r.time)} ${rig}`, r);
  }
  const out: PledgePoll[] = [];
  for (const s of polls ?? []) {
    const rig = s.tags?.rig;
    if (rig === undefined) continue;
    for (const p of rowsOf([s])) {
      const at = Number(p.time);
      const ok = p.up === 1;
      const r = ok ? readings.get(`${at} ${rig}`) : undefined;
      const hashrate = num(r?.hashrate_hs);
      const boards = num(r?.board_count);
      const state = stateTag
        ? typeof r?.state === 'string'
          ? r.state
          : ''
        : hashrate !== null && hashrate > 0
          ? 'mining'
          : '';
      out.push({
        rig_id: rig,
        address: rig,
        at_ms: at,
        ok,
        state: ok ? state : 'offline',
        hashrate_hs: hashrate,
        identity: {
          serial: null,
          mac: normalizeMac(rig),
          model: text(r?.model),
          firmware: text(r?.firmware),
          boards: boards !== null && boards > 0 ? boards : null,
        },
      });
    }
  }
  return out.sort((a, b) => a.at_ms - b.at_ms || (a.rig_id < b.rig_id ? -1 : a.rig_id > b.rig_id ? 1 : 0));
}

/** The same InfluxDB read as before: no `replayWindow`, so the report replays every poll of `referencePolls`. */
function referenceSource(cfg: InfluxSinkConfig): LoanDataSource {
  const src = new InfluxLoanSource({ influx: cfg, intervalMs: STEP });
  return {
    provenance: src.provenance,
    serials: false,
    hours: (a, b) => src.hours(a, b),
    polls: (a, b) => referencePolls(cfg, STEP, a, b),
  };
}

async function collect(polls: Iterable<PledgePoll> | AsyncIterable<PledgePoll>): Promise<PledgePoll[]> {
  const out: PledgePoll[] = [];
  for await (const p of polls) out.push(p);
  return out;
}

const esc = (v: string) => v.replace(/[ ,=]/g, (c) => `\\${c}`);
const lines: string[] = [];
function poll(rig: string, k: number, up: boolean, at = T0 + k * STEP) {
  lines.push(`rt_poll,rig=${esc(rig)},site=s up=${up ? 1 : 0}i,duration_ms=12i ${at}`);
}
function reading(
  rig: string,
  k: number,
  o: { model?: string | null; firmware?: string; state?: string; ths?: number; boards?: number | null } = {},
  at = T0 + k * STEP,
) {
  const tags = [`rig=${esc(rig)}`, 'site=s', `state=${o.state ?? 'mining'}`];
  if (o.model !== null) tags.push(`model=${esc(o.model ?? MODEL)}`);
  if (o.firmware) tags.push(`firmware=${esc(o.firmware)}`);
  const fields = [`hashrate_hs=${(o.ths ?? 100) * 1e12}`, `power_w=3200`];
  if (o.boards !== null) fields.push(`board_count=${o.boards ?? 3}i`);
  lines.push(`rt_rig,${tags.join(',')} ${fields.join(',')} ${at}`);
}
function answer(rig: string, k: number, o: Parameters<typeof reading>[2] = {}) {
  poll(rig, k, true);
  reading(rig, k, o);
}

async function write(): Promise<void> {
  const q = await fetch(`${influxd.url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `CREATE DATABASE ${DB}` }),
  });
  assert.equal(q.status, 200);
  for (let i = 0; i < lines.length; i += 50_000) {
    const res = await fetch(`${influxd.url}/write?db=${DB}&precision=ms`, {
      method: 'POST',
      body: lines.slice(i, i + 50_000).join('\n'),
    });
    assert.equal(res.status, 204, await res.text());
  }
  lines.length = 0;
}

const pledge = (i: number, o: Record<string, unknown> = {}) => ({
  mac: mac(i),
  model: MODEL,
  nominal_ths: 110,
  nominal_w: 3250,
  ...o,
});
const PLEDGES = [
  pledge(0, { serial: 'S0' }),
  pledge(1),
  pledge(2),
  pledge(3),
  pledge(4, { firmware: 'stock 1.0' }),
  pledge(5),
  pledge(6),
  pledge(7),
];

function config(dir: string, influx: InfluxSinkConfig): Config {
  return loanTestConfig({
    dir,
    site: 's',
    intervalMs: STEP,
    pledges: PLEDGES,
    covenants: { min_uptime: { threshold: 0.9 }, min_units_online: { threshold: 0.9 } },
    extra: { sinks: { influx } },
  });
}

/** The rigs the aggregates cannot stand for (read in full besides the pledged ones). */
const FULL_UNPLEDGED = ['rig-u5', 'rig-u6', 'rig-u10', 'rig-u11'];

function scenario(): void {
  for (let k = 0; k < STEPS; k++) {
    answer(mac(0), k);
    // p1: from step 300 its readings show another model (swapped).
    answer(mac(1), k, k >= 300 ? { model: 'Whatsminer M30S' } : {});
    // p2 stops answering at step 200.
    if (k < 200) answer(mac(2), k);
    else poll(mac(2), k, false);
    // p3 never appears. p4's firmware changes at step 250. p5 hashes at a third of nameplate from step 400.
    answer(mac(4), k, { firmware: k < 250 ? 'stock 1.0' : 'hacked 2.0' });
    answer(mac(5), k, k >= 400 ? { ths: 36 } : {});
    // p6's rig id is its MAC spelled otherwise (upper case, dashes).
    answer('AA-BB-CC-00-00-06', k);
    // p7 is replaced by another MAC at step 250: the new MAC is unpledged; nothing polls p7's rig id any more, so
    // its pledge keeps its last status (InfluxDB has no address to see the swap at).
    if (k < 250) answer(mac(7), k);
    else answer(mac(0x97), k);
    // Unpledged: u0 always; u1 from step 200; u2 until step 300, then failing; u3 never answering.
    answer('rig-u0', k);
    if (k >= 200) answer('rig-u1', k, { model: 'Avalon 1246', boards: 4 });
    if (k < 300) answer('rig-u2', k);
    else poll('rig-u2', k, false);
    poll('rig-u3', k, false);
    // u4: answering poll rows, never a reading.
    poll('rig-u4', k, true);
    // u5: a reading at step 130 whose poll failed (a reading before its first answering poll), answering from 140.
    if (k === 130) {
      poll('rig-u5', k, false);
      reading('rig-u5', k, { model: 'Early' });
    } else if (k >= 140) answer('rig-u5', k);
    // u6: answers with readings tagged offline until step 200.
    answer('rig-u6', k, k < 200 ? { state: 'offline' } : {});
    // u7: a rig id that is no MAC; u8: readings, no poll rows; u9: answering from 140, readings from 141.
    answer('miner-07', k, { model: null, boards: null });
    reading('rig-u8', k);
    if (k >= 140) poll('rig-u9', k, true);
    if (k >= 141) reading('rig-u9', k, { firmware: 'u9 fw' });
    // u10: polled every 10 s (more polls than the per-rig LIMIT); u11: readings every 10 s (more readings).
    for (let j = 0; j < 6; j++) {
      const at = T0 + k * STEP + j * 10_000;
      poll('rig-u10', k, j % 2 === 0, at);
      if (j % 2 === 0) reading('rig-u10', k, {}, at);
      if (j === 0) poll('rig-u11', k, true, at);
      reading('rig-u11', k, { firmware: `f${j}` }, at);
    }
    // Poll and rig points with no rig tag (the full read groups them as rig "").
    lines.push(`rt_poll,site=s up=1i ${T0 + k * STEP}`, `rt_rig,site=s hashrate_hs=1e14 ${T0 + k * STEP}`);
    // A mac-like unpledged rig that answers with no model tag and no board count.
    answer(mac(0x40), k, { model: null, boards: null, ths: 0 });
  }
}

describe('InfluxDB loan replay, reduced', () => {
  it('gives the same signed bytes as replaying every poll, with and without the state tag', async () => {
    scenario();
    await write();
    const windowFrom = TO - RECONCILE_WINDOW_MS;
    for (const tags of [undefined, ['make', 'model', 'firmware', 'family', 'power_source']]) {
      const cfg = sinkCfg(tags);
      const dir = mkdtempSync(join(tmpdir(), 'rigtel-influx-replay-'));
      dirs.push(dir);
      const conf = config(dir, cfg);
      const old = new LoanService({ config: conf, source: referenceSource(cfg), now: () => TO + HOUR });
      const reference = await old.reportAsync('L1', T0, TO);
      old.close();
      const src = new InfluxLoanSource({ influx: cfg, intervalMs: STEP });
      const fresh = new LoanService({ config: conf, source: src, now: () => TO + HOUR });
      const mine = await fresh.reportAsync('L1', T0, TO);
      fresh.close();
      assert.equal(mine.bytes, reference.bytes, `tags ${tags ?? 'all'}`);

      // The scenario did what it says (so the equality above covers each case).
      const b = mine.doc.body;
      const status = Object.fromEntries(b.rigs.map((r) => [r.mac, r.status]));
      assert.deepEqual(status, {
        [mac(0)]: 'seen',
        [mac(1)]: 'swapped',
        [mac(2)]: 'missing',
        [mac(3)]: 'missing',
        [mac(4)]: 'changed',
        [mac(5)]: 'derated',
        [mac(6)]: 'seen',
        [mac(7)]: 'seen',
      });
      const unpledged = Object.fromEntries(b.reconciliation.unpledged.map((u) => [u.rig_id, u]));
      assert.deepEqual(
        Object.keys(unpledged).sort(),
        ['', mac(0x40), mac(0x97), 'miner-07', 'rig-u0', 'rig-u1', 'rig-u10', 'rig-u11', 'rig-u2', 'rig-u4']
          .concat(['rig-u5', 'rig-u6', 'rig-u9'])
          .sort(),
      );
      assert.equal(unpledged['rig-u1']!.first_seen, new Date(T0 + 200 * STEP).toISOString());
      assert.equal(unpledged['rig-u9']!.first_seen, new Date(T0 + 140 * STEP).toISOString());
      const all = await referencePolls(cfg, STEP, windowFrom, TO);
      assert.equal(b.reconciliation.window.samples, all.length);

      // The reduced replay's own outputs against a replay of every poll.
      const [f] = loadFacilities(conf.loans, '.');
      const ref = new PledgeWatcher(f!, windowFrom, { serials: false });
      for (const p of all) ref.observePoll(p);
      const probe = new PledgeWatcher(f!, windowFrom, { serials: false });
      // Time slices of about 500 polls (their bounds cutting through a poll step) as well as one slice.
      const sliced = await src.replayWindow(windowFrom, TO, (id) => probe.matchesPledge(id), {
        sliceRows: 500,
      });
      const w = await src.replayWindow(windowFrom, TO, (id) => probe.matchesPledge(id));
      const replayed = await collect(w.polls);
      assert.deepEqual(await collect(sliced.polls), replayed);
      assert.deepEqual(sliced.others, w.others);
      assert.equal(sliced.samples, w.samples);
      const watcher = new PledgeWatcher(f!, windowFrom, { serials: false });
      for (const p of replayed) watcher.observePoll(p);
      for (const u of w.others) watcher.mergeUnpledged(u);
      assert.equal(w.samples, all.length);
      assert.deepEqual(watcher.pledged(), ref.pledged());
      assert.deepEqual(watcher.unpledged(), ref.unpledged());
      // Read in full: the pledged rigs and the few the aggregates cannot stand for, no other.
      const pledgedRigs = [mac(0), mac(1), mac(2), mac(4), mac(5), 'AA-BB-CC-00-00-06', mac(7)];
      const fullRigs = [
        ...pledgedRigs,
        ...FULL_UNPLEDGED.filter((r) => tags === undefined || r !== 'rig-u6'),
      ];
      assert.deepEqual([...new Set(replayed.map((p) => p.rig_id))].sort(), fullRigs.sort());
      assert.deepEqual(
        replayed,
        all.filter((p) => fullRigs.includes(p.rig_id)),
      );
    }
  });

  it('reads in full only the pledged rigs of a plain fleet', async () => {
    // 300 rigs answering every minute of the window, 5 of them pledged; another database prefix.
    const window = TO - RECONCILE_WINDOW_MS;
    for (let r = 0; r < 300; r++)
      for (let k = 120; k < STEPS; k++) {
        const rig = `aa:bb:cc:01:${(r >> 8).toString(16).padStart(2, '0')}:${(r & 255).toString(16).padStart(2, '0')}`;
        lines.push(`pl_poll,rig=${rig},site=s up=1i ${T0 + k * STEP}`);
        lines.push(
          `pl_rig,rig=${rig},site=s,model=${esc(MODEL)},state=mining hashrate_hs=1e14,board_count=3i ${T0 + k * STEP}`,
        );
      }
    await write();
    const cfg = influxSinkSchema.parse({ url: influxd.url, database: DB, measurement_prefix: 'pl_' });
    const rigIds = (await referencePolls(cfg, STEP, window, TO)).map((p) => p.rig_id);
    const ids = [...new Set(rigIds)].sort();
    assert.equal(ids.length, 300);
    const pledgedMacs = new Set(ids.slice(0, 5).map((r) => normalizeMac(r)));
    const src = new InfluxLoanSource({ influx: cfg, intervalMs: STEP });
    const w = await src.replayWindow(window, TO, (id) => id.mac !== null && pledgedMacs.has(id.mac));
    const replayed = await collect(w.polls);
    assert.equal(w.samples, 300 * 360);
    assert.equal(replayed.length, 5 * 360);
    assert.deepEqual([...new Set(replayed.map((p) => p.rig_id))].sort(), ids.slice(0, 5));
    assert.equal(w.others.length, 295);
  });

  it('reads the window in full, as before, when the rig tag has as many values as the SLIMIT', async () => {
    const window = TO - RECONCILE_WINDOW_MS;
    // 20,000 rig tag values from two days before; three rigs in the window.
    for (let r = 0; r < 20_000; r++) lines.push(`sl_poll,rig=old-${r},site=s up=0i ${T0 - 48 * HOUR + r}`);
    for (const rig of ['a', 'b', 'c'])
      for (let k = 120; k < STEPS; k += 10) lines.push(`sl_poll,rig=${rig},site=s up=1i ${T0 + k * STEP}`);
    await write();
    const cfg = influxSinkSchema.parse({ url: influxd.url, database: DB, measurement_prefix: 'sl_' });
    const w = await new InfluxLoanSource({ influx: cfg, intervalMs: STEP }).replayWindow(
      window,
      TO,
      () => false,
    );
    const all = await referencePolls(cfg, STEP, window, TO);
    assert.equal(all.length, 3 * 36);
    assert.equal(w.samples, all.length);
    assert.deepEqual(await collect(w.polls), all);
    assert.deepEqual(w.others, []);
  });
});
