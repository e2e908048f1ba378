import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFixtureRig } from '../testing/fixture-rig.js';
import { createAvalonDriver } from './avalon/driver.js';
import { createBitaxeDriver } from './bitaxe/driver.js';
import { createBraiinsDriver } from './braiins/driver.js';
import { createInnosiliconDriver } from './innosilicon/driver.js';
import type { PollTarget } from './kit/index.js';
import { createLuxosDriver } from './luxos/driver.js';
import { createVnishDriver } from './vnish/driver.js';

const avalonDriver = createAvalonDriver();
const bitaxeDriver = createBitaxeDriver();
const braiinsDriver = createBraiinsDriver();
const innosiliconDriver = createInnosiliconDriver();
const luxosDriver = createLuxosDriver();
const vnishDriver = createVnishDriver();

const target = (port: number): PollTarget => ({
  host: '127.0.0.1',
  port,
  family: 'auto',
  connectTimeoutMs: 1000,
  commandTimeoutMs: 2000,
  maxReplyBytes: 1024 * 1024,
});
const signal = () => new AbortController().signal;

test('braiins driver over loopback: joined read, missing tunerstatus noted as partial', async () => {
  const rig = await startFixtureRig({
    host: '127.0.0.1',
    replies: {
      summary: 'braiins_s9plus_summary.txt',
      devs: 'braiins_s9plus_devs.txt',
      temps: 'braiins_s9plus_temps.txt',
      fans: 'braiins_s9plus_fans.txt',
      pools: 'braiins_s9plus_pools.txt',
      version: 'braiins_s9plus_version.txt',
    },
  });
  try {
    const r = await braiinsDriver.poll(target(rig.port), signal());
    assert.equal(r.identity.firmware, 'BOSminer+ 0.2.0-36c56a9363');
    assert.equal(r.hashrate_hs, 15740915842676);
    assert.equal(r.boards.length, 3);
    assert.deepEqual(
      r.boards.map((b) => b.temp_board_c),
      [75, 63, 70],
    );
    assert.equal(r.fans.length, 2);
    assert.equal(r.pools.length, 3);
    assert.equal(r.support, 'partial');
    assert.ok(r.notes.some((n) => n.startsWith('no tunerstatus')));
    assert.ok(r.notes.some((n) => n.startsWith('no devdetails')));
  } finally {
    await rig.close();
  }
});

test('vnish, luxos, avalon, innosilicon drivers read their fixtures over loopback', async () => {
  const rigs = await Promise.all([
    startFixtureRig({
      host: '127.0.0.1',
      replies: { stats: 'vnish_s9_stats.txt', pools: 'vnish_s9_pools.txt', version: 'vnish_s9_version.txt' },
    }),
    startFixtureRig({
      host: '127.0.0.1',
      replies: {
        stats: 'luxos_s19kpro_stats.txt',
        temps: 'luxos_s19kpro_temps.txt',
        version: 'luxos_s19kpro_version.txt',
      },
    }),
    startFixtureRig({
      host: '127.0.0.1',
      replies: { version: 'avalon_1166pro_version.txt' },
    }),
    startFixtureRig({
      host: '127.0.0.1',
      replies: {
        summary: 'innosilicon_a9_summary.txt',
        stats: 'innosilicon_a9_stats.txt',
        pools: 'innosilicon_a9_pools.txt',
      },
    }),
  ]);
  try {
    const v = await vnishDriver.poll(target(rigs[0]!.port), signal());
    assert.equal(v.identity.firmware, 'VNish 3.8.6 (cgminer 4.11.1)');
    assert.equal(v.hashrate_hs, 12795480000000);
    assert.equal(v.boards.length, 3);
    const l = await luxosDriver.poll(target(rigs[1]!.port), signal());
    assert.equal(l.identity.model, 'Antminer S19k Pro');
    assert.equal(l.temp_inlet_c, 34);
    assert.equal(l.hashrate_hs, 59756060000000);
    // Avalon with only `version`: it answered, so it is a reading, but `partial` with every refusal noted.
    const a = await avalonDriver.poll(target(rigs[2]!.port), signal());
    assert.equal(a.support, 'partial');
    assert.ok(
      a.notes.some((n) => n.startsWith('no summary: RT_ERR_PROTO_STATUS')),
      a.notes.join('; '),
    );
    assert.ok(a.notes.some((n) => n.startsWith('none of the commands the figures come from')));
    const i = await innosiliconDriver.poll(target(rigs[3]!.port), signal());
    assert.equal(i.hashrate_hs, null);
    assert.equal(i.support, 'partial');
    assert.ok(
      i.notes.some((n) => n.includes('Sol/s')),
      i.notes.join('; '),
    );
  } finally {
    await Promise.all(rigs.map((r) => r.close()));
  }
});

test('avalon driver: estats refused, falls back to stats; MM ID parsed from the 1047 capture', async () => {
  const cap = 'avalon_1047_summary-stats-pools.txt';
  const rig = await startFixtureRig({
    host: '127.0.0.1',
    replies: { summary: `${cap}#summary`, stats: `${cap}#stats`, pools: `${cap}#pools` },
  });
  try {
    const r = await avalonDriver.poll(target(rig.port), signal());
    assert.equal(r.identity.model, 'AvalonMiner 1047');
    assert.equal(r.hashrate_hs, 32247416810000);
    assert.equal(r.temp_chip_max_c, 64);
    assert.equal(r.boards.length, 2);
    assert.equal(r.pools.length, 3);
    assert.ok(!r.notes.some((n) => n.startsWith('no estats')));
    assert.ok(r.notes.some((n) => n.startsWith('no devs')));
  } finally {
    await rig.close();
  }
});

test('bitaxe driver reads /api/system/info; a silent host times out with a named error', async () => {
  const web = await startFixtureRig({ host: '127.0.0.1', httpInfoFixture: 'bitaxe_supra_system-info.txt' });
  const silent = await startFixtureRig({ host: '127.0.0.1', mode: 'silent' });
  try {
    const r = await bitaxeDriver.poll(target(web.port), signal());
    assert.equal(r.identity.model, 'Bitaxe Supra');
    assert.equal(r.power_source, 'miner');
    await assert.rejects(bitaxeDriver.poll({ ...target(silent.port), commandTimeoutMs: 200 }, signal()), {
      code: 'RT_ERR_PROTO_TIMEOUT',
    });
  } finally {
    await Promise.all([web.close(), silent.close()]);
  }
});

test('a driver polling a rig whose version names another firmware flags it', async () => {
  const rig = await startFixtureRig({
    host: '127.0.0.1',
    replies: { summary: 'braiins_s9_summary.txt', version: 'luxos_s19kpro_version.txt' },
  });
  try {
    const r = await braiinsDriver.poll(target(rig.port), signal());
    assert.equal(r.support, 'partial');
    assert.ok(r.notes.some((n) => n.startsWith('family signature lost:') && n.includes('braiins')));
  } finally {
    await rig.close();
  }
});
