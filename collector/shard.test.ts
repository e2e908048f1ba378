import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveShard } from '../cli/run.js';
import { applyEnvOverrides, validateConfig } from '../config/load.js';
import { targetsFromConfig } from './runtime.js';
import { ownTargets, shardIndexFromHostname, shardOf } from './shard.js';

const config = validateConfig({
  rigs: Array.from({ length: 3000 }, (_, i) => ({
    ...(i % 3 === 0 ? { name: `rack${i}` } : {}),
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  })),
});
const targets = targetsFromConfig(config);

test('three shards split the rigs: each polled by exactly one, none missed, about a third each', () => {
  const shares = [0, 1, 2].map((index) => ownTargets(targets, { index, count: 3 }));
  const all = shares.flat().map((t) => t.address);
  assert.equal(all.length, targets.length);
  assert.equal(new Set(all).size, targets.length);
  for (const s of shares) assert.ok(s.length > 850 && s.length < 1150, `${s.length} of 3000`);
  assert.deepEqual(ownTargets(targets, { index: 0, count: 1 }), targets);
});

test('going from 3 to 4 shards moves only the rigs the new shard wins', () => {
  let moved = 0;
  for (const t of targets) {
    const before = shardOf(t.name ?? t.address, 3);
    const after = shardOf(t.name ?? t.address, 4);
    if (before !== after) {
      moved += 1;
      assert.equal(after, 3, 'a rig only ever moves to the new shard');
    }
  }
  assert.ok(moved > 600 && moved < 900, `${moved} of 3000 moved (about a quarter)`);
});

test('the shard index from a StatefulSet host name, or a named error', () => {
  assert.equal(shardIndexFromHostname('rigtel-collector-2'), 2);
  assert.equal(shardIndexFromHostname('collector'), null);
  assert.deepEqual(resolveShard({ index: 'hostname', count: 3 }, 'rigtel-collector-1'), {
    index: 1,
    count: 3,
  });
  assert.throws(() => resolveShard({ index: 'hostname', count: 3 }, 'rigtel-collector-3'), {
    code: 'RT_ERR_CLI_SHARD_INDEX',
  });
  assert.throws(() => resolveShard({ index: 'hostname', count: 3 }, 'box'), {
    code: 'RT_ERR_CLI_SHARD_INDEX',
  });
  assert.throws(() => validateConfig({ collector: { shard: { index: 3, count: 3 } } }), {
    code: 'RT_ERR_CONFIG_INVALID',
  });
  const fromEnv = validateConfig(
    applyEnvOverrides({}, { RIGTEL_COLLECTOR__SHARD__INDEX: '1', RIGTEL_COLLECTOR__SHARD__COUNT: '2' }),
  );
  assert.deepEqual(fromEnv.collector.shard, { index: 1, count: 2 });
});
