// `rigtel poll HOST:PORT` with no --family (the auto path) must give the same family, model and figures as with
// the right --family, for one emulated rig of every personality. Both go through cli/poll.ts exactly as a user
// runs it. The emulators replay the real captured replies (protocols/fixtures/real) on loopback, with a fixed
// clock so the moving figures are the same for both polls.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { scanRange } from '../collector/discovery.js';
import { loadPersonality, PERSONALITY_SPECS, personalityNames } from '../protocols/emulator/personalities.js';
import { type EmulatedRig, startEmulatedRig } from '../protocols/emulator/server.js';
import type { MinerReading } from '../protocols/sample.js';
import { type FixtureRig, startFixtureRig } from '../testing/fixture-rig.js';
import { pollCommand } from './poll.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
// whatsminer-v3 speaks only the length-framed API on its own port (4433): it has its own test at the end.
const NAMES = personalityNames().filter((n) => n !== 'whatsminer-v3');
const rigs: EmulatedRig[] = [];

before(async () => {
  for (const [i, personality] of NAMES.entries()) {
    rigs.push(
      await startEmulatedRig({ personality, host: '127.0.0.1', port: 0, seed: i + 1, now: () => NOW }),
    );
  }
});

after(async () => {
  await Promise.all(rigs.map((r) => r.close()));
});

async function poll(args: string[]): Promise<{ code: number; reading: MinerReading | null; err: string }> {
  let out = '';
  let err = '';
  const code = await pollCommand([...args, '--json', '--timeout', '3000'], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: {},
  });
  return { code, reading: code === 0 ? (JSON.parse(out) as MinerReading) : null, err };
}

/** What must agree: identity, state, every figure, boards, fans, pools and the support level. */
function figures(r: MinerReading) {
  return {
    family: r.identity.family,
    make: r.identity.make,
    model: r.identity.model,
    firmware: r.identity.firmware,
    state: r.state,
    support: r.support,
    hashrate_hs: r.hashrate_hs,
    hashrate_avg_hs: r.hashrate_avg_hs,
    hashrate_nominal_hs: r.hashrate_nominal_hs,
    temp_board_max_c: r.temp_board_max_c,
    temp_chip_max_c: r.temp_chip_max_c,
    temp_inlet_c: r.temp_inlet_c,
    temp_outlet_c: r.temp_outlet_c,
    power_w: r.power_w,
    power_source: r.power_source,
    uptime_s: r.uptime_s,
    shares_accepted: r.shares_accepted,
    shares_rejected: r.shares_rejected,
    hw_errors: r.hw_errors,
    boards: r.boards,
    fans: r.fans,
    pools: r.pools,
  };
}

/**
 * The emulator nudges every moving figure on every reply (protocols/emulator/vary.ts), and the auto path asks
 * its identification probes first, so the two polls see different replies: the same figure may differ by the
 * emulator's noise, never more. Identity, state, support, and which figures exist must be identical.
 */
function close(a: unknown, b: unknown, path: string, out: string[]): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Math.abs(a - b) > 0.15 * Math.max(Math.abs(a), Math.abs(b))) out.push(`${path}: ${a} vs ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: ${a.length} vs ${b.length} entries`);
    else for (const [i, x] of a.entries()) close(x, b[i], `${path}[${i}]`, out);
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
  } else if (a !== b && !(/uptime_s|accepted|rejected|hw_errors/.test(path) && a !== null && b !== null))
    out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
}

test('rigtel poll on auto reads every emulated personality as its family does', async () => {
  const wrong: string[] = [];
  for (const rig of rigs) {
    const family = loadPersonality(rig.personality).family;
    const byFamily = await poll([rig.address, '--family', family]);
    const auto = await poll([rig.address]);
    if (!byFamily.reading) {
      wrong.push(`${rig.personality}: --family ${family} failed: ${byFamily.err.trim()}`);
      continue;
    }
    if (!auto.reading) {
      wrong.push(`${rig.personality}: auto failed: ${auto.err.trim()}`);
      continue;
    }
    const diff: string[] = [];
    close(figures(auto.reading), figures(byFamily.reading), rig.personality, diff);
    if (auto.reading.identity.family !== family)
      diff.push(`${rig.personality}: family ${auto.reading.identity.family}`);
    wrong.push(...diff);
  }
  assert.deepEqual(wrong, []);
});

/**
 * Every rig assembled from the real replies (each personality's command → capture map), replayed byte for byte
 * by a fixture server that never varies a figure: auto and --family must agree exactly.
 */
function assembled(): { name: string; family: string; replies?: Record<string, string>; http?: string }[] {
  const out: { name: string; family: string; replies?: Record<string, string>; http?: string }[] = [];
  for (const spec of PERSONALITY_SPECS) {
    if (spec.synthesized) continue;
    if (spec.httpInfo) {
      out.push({ name: spec.name, family: spec.family, http: spec.httpInfo });
      continue;
    }
    const replies: Record<string, string> = { ...spec.replies };
    for (const [cmd, [file, key]] of Object.entries(spec.fromJoin ?? {})) replies[cmd] = `${file}#${key}`;
    for (const [cmd, other] of Object.entries(spec.aliases ?? {}))
      if (replies[other]) replies[cmd] ??= replies[other]!;
    // A capture that exists only in cgminer's plain-text format (avalon_mini3_version.txt) is served as it is.
    for (const [cmd, file] of Object.entries(spec.textReplies ?? {})) replies[cmd] ??= file;
    out.push({ name: spec.name, family: spec.family, replies });
  }
  return out;
}

test('rigtel poll on auto reads every rig assembled from the real replies exactly as its family does', async () => {
  const wrong: string[] = [];
  for (const a of assembled()) {
    const rig: FixtureRig = await startFixtureRig({
      host: '127.0.0.1',
      ...(a.http ? { httpInfoFixture: a.http } : { replies: a.replies! }),
    });
    try {
      const address = `127.0.0.1:${rig.port}`;
      const byFamily = await poll([address, '--family', a.family]);
      const auto = await poll([address]);
      if (!byFamily.reading || !auto.reading) {
        wrong.push(`${a.name}: ${byFamily.err.trim()} ${auto.err.trim()}`);
        continue;
      }
      try {
        assert.deepEqual(figures(auto.reading), figures(byFamily.reading));
        assert.equal(auto.reading.identity.family, a.family);
      } catch (e) {
        wrong.push(`${a.name}: ${(e as Error).message.split('\n').slice(0, 14).join(' ')}`);
      }
    } finally {
      await rig.close();
    }
  }
  assert.deepEqual(wrong, []);
});

test('rigtel poll on auto reads the Whatsminer API v3 personality as --family whatsminer does', async () => {
  // API v3 lives on its own port, 4433; a free loopback address of its own keeps the port free.
  const host = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const rig = await startEmulatedRig({
    personality: 'whatsminer-v3',
    host,
    port: 4433,
    seed: 7,
    now: () => NOW,
  });
  try {
    const byFamily = await poll([rig.address, '--family', 'whatsminer']);
    const auto = await poll([rig.address]);
    assert.ok(byFamily.reading, byFamily.err);
    assert.ok(auto.reading, auto.err);
    const diff: string[] = [];
    close(figures(auto.reading), figures(byFamily.reading), 'whatsminer-v3', diff);
    assert.deepEqual(diff, []);
    assert.equal(auto.reading.identity.family, 'whatsminer');
    assert.equal(auto.reading.identity.model, byFamily.reading.identity.model);
    // `rigtel scan` identifies the same host through the same path.
    const report = await scanRange({
      cidrs: [`${host}/32`],
      ports: [4433],
      concurrency: 4,
      connectTimeoutMs: 500,
      deadlineMs: 2000,
    });
    assert.equal(report.results[0]?.status, 'identified');
    assert.equal(report.results[0]?.family, 'whatsminer');
  } finally {
    await rig.close();
  }
});
