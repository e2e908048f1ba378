/**
 * The hostile fleet: real emulated rigs beside servers that attack the collector (testing/hostile.ts: hang,
 * drip, reset, garbage, 200 MB, no NUL, bytes after NUL, invalid UTF-8, NaN/Infinity/1e999, 100k-deep JSON,
 * huge integers, 1e30 GH/s from a known and an unknown model, an error STATUS, HTTP on the port). The collector
 * runs for RIGTEL_HOSTILE_S seconds (default 45; the suite runs the default): healthy rigs keep their schedule,
 * every hostile rig ends with a named error or a partial (or unsupported) sample with a note, /v1/fleet totals are the sum of the
 * healthy rigs, RSS stays bounded, and `rigtel poll` gives each hostile rig the same verdict as the collector.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildApp } from '../api/app.js';
import { pollCommand } from '../cli/poll.js';
import { validateConfig } from '../config/load.js';
import { startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { driverFor } from '../protocols/registry.js';
import type { Sample } from '../protocols/sample.js';
import {
  BYTE_ATTACKS,
  type HostileServer,
  startHostile,
  VALUE_ATTACKS,
  type ValueAttack,
} from '../testing/hostile.js';
import { silentLogger } from './journal.js';
import { startCollector, targetsFromConfig } from './runtime.js';

const DURATION_S = Number(process.env['RIGTEL_HOSTILE_S'] ?? 45);
// The poll deadline (7 s) is above what `rigtel poll` allows a whole poll (4 × its 1.5 s command timeout), so a rig
// that hangs every command gets the same RT_ERR_PROTO_TIMEOUT from both rather than a scheduler deadline.
const INTERVAL_MS = 8000;
const COMMAND_TIMEOUT_MS = 1500;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A verdict both the collector and `rigtel poll` can give: an error code, or `partial` / `full`. */
function verdictOf(s: Sample): string {
  return s.poll.error_code ?? s.support;
}

async function pollVerdict(address: string): Promise<{ verdict: string; notes: string[]; out: string }> {
  let out = '';
  let err = '';
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), env: {} };
  const code = await pollCommand([address, '--json', '--timeout', String(COMMAND_TIMEOUT_MS)], io);
  if (code !== 0)
    return { verdict: /^(RT_ERR_[A-Z_]+)/.exec(err)?.[1] ?? `exit ${code}`, notes: [], out: err };
  const reading = JSON.parse(out) as { support: string; notes: string[] };
  return { verdict: reading.support, notes: reading.notes, out };
}

describe('hostile fleet', () => {
  it(`healthy rigs keep schedule and true totals beside ${BYTE_ATTACKS.length + Object.keys(VALUE_ATTACKS).length} attackers (${DURATION_S} s)`, async (t) => {
    const healthy = await startEmulatedFleet({
      count: 6,
      host: '127.0.0.1',
      basePort: 0,
      mix: 'antminer',
      seed: 11,
    });
    t.after(() => healthy.stop());
    const attacks = [...BYTE_ATTACKS, ...(Object.keys(VALUE_ATTACKS) as ValueAttack[])];
    const hostile: HostileServer[] = await Promise.all(attacks.map((a) => startHostile(a)));
    t.after(() => Promise.all(hostile.map((h) => h.close())));
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-hostile-'));
    dirs.push(dir);
    const config = validateConfig({
      storage: { dir, journal_fsync: 'off' },
      poll: {
        interval_ms: INTERVAL_MS,
        connect_timeout_ms: 500,
        command_timeout_ms: COMMAND_TIMEOUT_MS,
        poll_deadline_ms: 7000,
        concurrency: 64,
        max_reply_bytes: 1024 * 1024,
      },
      rigs: [
        ...healthy.rigs.map((r) => ({ name: r.name, address: r.address, family: r.family })),
        ...hostile.map((h) => ({ name: `hostile-${h.attack}`, address: h.address })),
      ],
    });
    const rt = await startCollector(config, targetsFromConfig(config), { log: silentLogger, driverFor });
    t.after(() => rt.stop());
    const samples: Sample[] = [];
    rt.onSample((s) => samples.push(s));
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    const started = Date.now();
    while (Date.now() - started < DURATION_S * 1000) {
      await new Promise((r) => setTimeout(r, 250));
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }

    // Healthy rigs: a sample every interval, every one of them ok.
    const rounds = Math.floor((DURATION_S * 1000) / INTERVAL_MS);
    for (const r of healthy.rigs) {
      const mine = samples.filter((s) => s.address === r.address);
      assert.ok(mine.length >= rounds - 1, `${r.name}: ${mine.length} samples in ${rounds} rounds`);
      assert.ok(
        mine.every((s) => s.poll.ok),
        `${r.name}: a healthy rig failed a poll`,
      );
      const gaps = mine.slice(1).map((s, i) => s.at_ms - mine[i]!.at_ms);
      assert.ok(Math.max(...gaps) < INTERVAL_MS * 1.5, `${r.name}: a gap of ${Math.max(...gaps)} ms`);
    }

    // Hostile rigs: each ends with a named error, or a partial sample that says why; then rigtel poll agrees.
    const table: string[] = [];
    for (const h of hostile) {
      const mine = samples.filter((s) => s.address === h.address);
      assert.ok(mine.length >= 1, `${h.attack}: never polled`);
      const last = mine[mine.length - 1]!;
      const verdict = verdictOf(last);
      const named = last.poll.error_code !== null && /^RT_ERR_[A-Z_]+$/.test(last.poll.error_code);
      // `unsupported` (nothing identified, no figures) is a stricter form of `partial`: both must say why.
      const partialWithNote = last.poll.ok && last.support !== 'full' && last.notes.length > 0;
      assert.ok(named || partialWithNote, `${h.attack}: ${verdict} ${JSON.stringify(last.notes)}`);
      assert.notEqual(last.poll.error_code, 'RT_ERR_INTERNAL', h.attack);
      const counts = new Map<string, number>();
      for (const s of mine) counts.set(verdictOf(s), (counts.get(verdictOf(s)) ?? 0) + 1);
      const p = await pollVerdict(h.address);
      assert.equal(
        p.verdict,
        verdict,
        `${h.attack}: rigtel poll says ${p.verdict}, the collector ${verdict}`,
      );
      table.push(
        `${h.attack.padEnd(22)} ${[...counts]
          .map(([v, n]) => `${v}×${n}`)
          .join(', ')
          .padEnd(44)} poll: ${p.verdict}${last.notes[0] ? `  (${last.notes[0].slice(0, 80)})` : ''}`,
      );
    }
    console.log(`# hostile fleet, ${DURATION_S} s, ${samples.length} samples:\n# ${table.join('\n# ')}`);

    // Fleet totals: exactly the healthy rigs' figures (hostile rigs contribute no hashrate at all).
    for (const h of hostile) {
      const cur = rt.fleet.list().find((r) => r.address === h.address)?.current;
      assert.ok(
        cur == null || cur.hashrate_hs === null,
        `${h.attack}: hashrate ${cur?.hashrate_hs} in the fleet`,
      );
    }
    const app = buildApp({ fleet: rt.fleet, history: rt.history, health: rt.health, config });
    t.after(() => app.close());
    const fleet = (await app.inject('/v1/fleet')).json() as { hashrate_hs: number | null };
    const healthySum = healthy.rigs
      .map((r) => rt.fleet.list().find((x) => x.address === r.address)?.current?.hashrate_hs ?? 0)
      .reduce((a, b) => a + b, 0);
    assert.ok(
      fleet.hashrate_hs !== null && Math.abs(fleet.hashrate_hs - healthySum) < 1,
      `${fleet.hashrate_hs} vs ${healthySum}`,
    );
    assert.ok(fleet.hashrate_hs < 6 * 1e15, 'no attacker inflated the fleet');

    // Memory: the 200 MB attack is cut at max_reply_bytes; nothing grows without bound.
    const grewMb = (rssMax - rss0) / 1048576;
    console.log(`# rss ${Math.round(rss0 / 1048576)} MB at start, peak +${grewMb.toFixed(0)} MB`);
    assert.ok(grewMb < 250, `RSS grew ${grewMb.toFixed(0)} MB`);
    const huge = hostile.find((h) => h.attack === 'huge-200mb')!;
    assert.ok(huge.bytesSent() < 200 * 1024 * 1024, 'the 200 MB reply was not read to the end');
  });
});
