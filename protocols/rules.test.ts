// Reading rules, each shown on the real replies in protocols/fixtures/real. Expected values are written by hand
// from the raw reply; the comment beside each says which field of which reply gives the figure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startFixtureRig } from '../testing/fixture-rig.js';
import { antminerReadingFrom } from './antminer/index.js';
import { readFixtureText } from './fixtures.js';
import { identify } from './identify.js';
import { decodeReply, type PlanOutcome, type PollTarget } from './kit/index.js';
import { parseLuxos } from './luxos/index.js';
import { pollOnce } from './registry.js';
import type { Family, MinerReading } from './sample.js';
import { parseVnish } from './vnish/index.js';

const body = (file: string) => decodeReply(readFixtureText(file)).value;

/** What the antminer driver does with what its plan brought back, bodies straight from the captures. */
function antminerFrom(bodies: Record<string, unknown>): MinerReading {
  const outcome: PlanOutcome = { bodies, repairs: [], failures: [], essential: ['stats', 'summary'] };
  return antminerReadingFrom(outcome);
}

/** One poll (auto unless `family` is given) of a loopback rig replaying `replies`: what `rigtel poll` runs. */
async function pollReplies(
  replies: Record<string, string>,
  family: Family | 'auto' = 'auto',
): Promise<MinerReading> {
  const rig = await startFixtureRig({ host: '127.0.0.1', replies });
  try {
    const target: PollTarget = {
      host: '127.0.0.1',
      port: rig.port,
      family,
      connectTimeoutMs: 1000,
      commandTimeoutMs: 3000,
      maxReplyBytes: 1024 * 1024,
    };
    return await pollOnce(target, AbortSignal.timeout(30_000));
  } finally {
    await rig.close();
  }
}

describe('auto reads each family with its own rules', () => {
  it('Whatsminer M31S on auto: HS RT, not MHS 5s; power, fans and temperatures kept', async () => {
    const r = await pollReplies({
      summary: 'whatsminer_m31s_summary.txt',
      devs: 'whatsminer_m31s_edevs.txt',
      edevs: 'whatsminer_m31s_edevs.txt',
      pools: 'whatsminer_m31s_pools.txt',
    });
    assert.equal(r.identity.family, 'whatsminer');
    // summary `"HS RT":76690808.44` (MH/s) — not `"MHS 5s":92768288.94`, 21 % higher.
    assert.equal(r.hashrate_hs, 76_690_808_440_000);
    // summary `"Power_RT":3552`, the PSU's own figure.
    assert.equal(r.power_w, 3552);
    assert.equal(r.power_source, 'miner');
    // summary `"Fan Speed In":5700`.
    assert.equal(r.fans[0]?.rpm, 5700);
    // summary `"Chip Temp Max":93.00`, `"Temperature":72.00`.
    assert.equal(r.temp_chip_max_c, 93);
    assert.equal(r.temp_board_max_c, 72);
    // summary `"MAC":"C6:06:12:00:2D:63"`, normalised like every family's.
    assert.equal(r.identity.mac, 'c6:06:12:00:2d:63');
    assert.equal(r.support, 'full');
  });

  it('Innosilicon A9 on auto: Sol/s is not stored as SHA-256 hashrate', async () => {
    const r = await pollReplies({
      summary: 'innosilicon_a9_summary.txt',
      stats: 'innosilicon_a9_stats.txt',
      pools: 'innosilicon_a9_pools.txt',
    });
    // summary STATUS `"Description":"innominer a9-1.1.0"` names the family.
    assert.equal(r.identity.family, 'innosilicon');
    // summary `"MHS av":51274.60` is an Equihash rate (Sol/s), not MH/s of SHA-256: no hashrate figure.
    assert.equal(r.hashrate_hs, null);
    assert.equal(r.hashrate_avg_hs, null);
    assert.ok(
      r.notes.some((n) => n.includes('Sol/s')),
      r.notes.join('; '),
    );
  });

  it('a host that answers but names no family is unsupported, its replies kept; error text names nothing', async () => {
    // Every command refused (STATUS E, Code 14) — a Description in an error reply is not a signature.
    const r = await pollReplies({});
    assert.equal(r.identity.family, 'unknown');
    assert.equal(r.support, 'unsupported');
    assert.ok(r.raw?.includes('Invalid command'), 'raw replies kept');
    assert.deepEqual(
      identify({
        version:
          '{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command","Description":"btminer"}],"id":1}',
      }).family,
      'unknown',
    );
  });
});

describe('a state carries its evidence', () => {
  it('Antminer S19 at 0 H/s since boot with no sleep signal: an inferred error, signals in notes', () => {
    const r = antminerFrom({ stats: body('antminer_s19_stats.txt') });
    // stats `"GHS 5s": 0.0`, `"GHS av": 0.0`, `"Mode": 2` (254 would be sleep).
    assert.equal(r.hashrate_hs, 0);
    assert.equal(r.state, 'error');
    assert.equal(r.state_inferred, true);
    const note = r.notes.find((n) => n.startsWith('not hashing since boot'));
    assert.ok(note, r.notes.join('; '));
    assert.match(note!, /Mode 2, not the sleep mode 254/);
    // `"chain_acn2": 76`, `"chain_acn3": 76`, each chain_acs " xx xx …" with 76 x.
    assert.match(note!, /152 of 152 chips marked x/);
    // `"temp_chip2": "39-37-40-39"`, `"temp_chip3": "38-38-40-40"`: at most 40 °C.
    assert.match(note!, /chips at most 40 °C/);
    assert.deepEqual(
      r.boards.map((b) => b.chips),
      [0, 0],
    );
  });

  it('Antminer S17+ with Mode 254: the firmware says it sleeps', () => {
    const r = antminerFrom({ stats: body('antminer_s17plus_stats.txt') });
    // stats `"Mode":254`.
    assert.equal(r.state, 'sleeping');
    assert.equal(r.state_inferred, false);
  });

  it('Whatsminer btmineroff while the summary hashes: a noted contradiction, not silently sleeping', async () => {
    const r = await pollReplies(
      { summary: 'whatsminer_m31s_summary.txt', pools: 'whatsminer_m31s_pools.txt' },
      'whatsminer',
    );
    // Through the fixture server `status` is refused (the own-API command needs {"cmd":…}); parse level below.
    assert.equal(r.state, 'mining');
    const { parseWhatsminer } = await import('./whatsminer/index.js');
    const off = parseWhatsminer({
      summary: body('whatsminer_m31s_summary.txt') as never,
      // status `"Msg":{"btmineroff":"true",…}`.
      status: body('whatsminer_m31s_status.txt') as never,
    });
    assert.equal(off.state, 'mining');
    assert.equal(off.state_inferred, true);
    // summary `"HS RT":76690808.44` → 76.69 TH/s; `"Power_RT":3552`.
    assert.ok(off.notes.some((n) => n.includes('but the summary shows 76.69 TH/s and 3552 W')));
  });
});

describe('power the firmware computes', () => {
  it('Hiveon chain_power "456.78 (AB)" is an estimate, not a measurement', () => {
    const r = antminerFrom({
      version: body('antminer_s9hiveon_version.txt'),
      stats: body('antminer_s9hiveon_stats.txt'),
    });
    // stats `"chain_power":"456.78 (AB)"`.
    assert.equal(r.power_w, 456.78);
    assert.equal(r.power_source, 'estimate');
  });

  it('34.65 W from an S9 at 11.8 TH/s is flagged as implausible by the finish step', () => {
    const r = antminerFrom({
      // version `"Type":"Antminer S9 Hiveon"` → Antminer S9, nameplate 13.5 TH/s at 1323 W.
      version: body('antminer_s9hiveon_version.txt'),
      stats: body('antminer_s9hiveon_stats_2.txt'),
    });
    // stats `"GHS 5s":"11781.40"`.
    assert.equal(r.hashrate_hs, 11_781_400_000_000);
    // stats `"chain_power":"34.65 (AB)"`: 2.9 J/TH where the model needs about 98.
    assert.equal(r.power_w, null);
    assert.equal(r.power_source, null);
    assert.equal(r.support, 'partial');
    assert.ok(r.notes.some((n) => n.startsWith('implausible power_w 34.65 W for Antminer S9')));
  });
});

describe('LuxOS', () => {
  it('temp_chipN that repeats the exhaust/intake sensors of the temps reply is not a chip temperature', () => {
    const r = parseLuxos({
      version: body('luxos_s19kpro_version.txt'),
      stats: body('luxos_s19kpro_stats.txt'),
      temps: body('luxos_s19kpro_temps.txt'),
    });
    // stats `"temp_chip1": "47-34-34-47"`; temps ID 0: TopLeft 47 / BottomLeft 47 ("Board Exhaust"),
    // TopRight 34 / BottomRight 34 ("Board Intake"): the same four sensors.
    assert.deepEqual(
      r.boards.map((b) => b.temp_chip_c),
      [null, null, null],
    );
    assert.equal(r.temp_chip_max_c, null);
    assert.equal(r.temp_outlet_c, 47);
    assert.equal(r.temp_inlet_c, 34);
    assert.ok(r.notes.some((n) => n.includes('repeats the board')));
  });

  it('board hashrates come from devs MHS 5s, the window of the total, so they sum to it', () => {
    // No LuxOS devs capture exists: this devs body is constructed in the documented cgminer DEVS layout, with
    // per-board MHS 5s that add up to the stats capture's `"GHS 5s": 59756.06`.
    const devs = {
      STATUS: [{ STATUS: 'S', Code: 9, Msg: '3 ASC(s)', Description: 'LUXminer' }],
      DEVS: [
        { ASC: 0, ID: 0, 'MHS 5s': 19918690.0 },
        { ASC: 1, ID: 1, 'MHS 5s': 19918690.0 },
        { ASC: 2, ID: 2, 'MHS 5s': 19918680.0 },
      ],
    };
    const stats = body('luxos_s19kpro_stats.txt');
    const statsOnly = parseLuxos({ stats });
    // stats `"chain_rate1": "18910.28"` + 18939.95 + 19067.67 = 56917.90 GH/s: the `"GHS av"` window.
    assert.equal(
      statsOnly.boards.reduce((t, b) => t + (b.hashrate_hs ?? 0), 0),
      56_917_900_000_000,
    );
    const r = parseLuxos({ stats, devs, summary: { SUMMARY: [{ 'GHS 5s': 59756.06 }] } });
    assert.equal(r.hashrate_hs, 59_756_060_000_000);
    assert.equal(
      r.boards.reduce((t, b) => t + (b.hashrate_hs ?? 0), 0),
      59_756_060_000_000,
    );
  });
});

describe('identity and chips', () => {
  it('a known Antminer reply with its firmware name changed is partial with a note, not stock and full', () => {
    const stats = body('antminer_s9_stats.txt');
    const pools = body('antminer_s9_pools.txt');
    const stock = antminerFrom({ version: body('antminer_s9_version.txt'), stats, pools });
    assert.ok(!stock.notes.some((n) => n.startsWith('unknown firmware:')), stock.notes.join('; '));
    // version `"BMMiner":"2.0.0"` renamed: no miner software rigtel knows.
    const renamed = readFixtureText('antminer_s9_version.txt').replace('"BMMiner"', '"ZMiner"');
    const a = antminerFrom({ version: decodeReply(renamed).value, stats, pools });
    assert.equal(a.support, 'partial');
    assert.ok(a.notes.some((n) => n.startsWith('unknown firmware:') && n.includes('ZMiner')));
    // version `"Type":"Antminer S9"` with a firmware word added after the model.
    const typed = readFixtureText('antminer_s9_version.txt').replace('"Antminer S9"', '"Antminer S9 Zeus"');
    const b = antminerFrom({ version: decodeReply(typed).value, stats, pools });
    assert.equal(b.support, 'partial');
    assert.ok(b.notes.some((n) => n.startsWith('unknown firmware:') && n.includes('"Zeus"')));
    assert.equal(b.identity.model, 'Antminer S9 Zeus');
  });

  it('chip counts subtract chips marked x in chain_acsN', () => {
    const r = parseVnish({ stats: body('vnish_s17plus_stats.txt') });
    // `"chain_acn1":65` with `"chain_acs1":"xxxxx ooooo …"`: 5 dead → 60; chains 2 and 3 all `o` → 65.
    assert.deepEqual(
      r.boards.map((b) => b.chips),
      [60, 65, 65],
    );
  });
});
