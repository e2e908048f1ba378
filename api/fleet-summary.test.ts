import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RigStatus } from '../collector/views.js';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { summarizeFleet } from './fleet-summary.js';

function rig(id: string, model: string, hs: number, w: number): RigStatus {
  const r = emptyReading('antminer');
  const s: Sample = {
    ...r,
    identity: { ...r.identity, model },
    state: 'mining',
    hashrate_hs: hs,
    power_w: w,
    power_source: 'pdu',
    v: 1,
    rig_id: id,
    site: 's',
    address: `${id}:4028`,
    at_ms: 0,
    power_miner_w: null,
    energy_wh: null,
    poll: { ok: true, duration_ms: 1, error_code: null, error_message: null },
  };
  return {
    rig_id: id,
    name: id,
    address: s.address,
    state: 'mining',
    current: s,
    last_seen_ms: 0,
    last_poll_ms: 0,
    last_error: null,
    consecutive_failures: 0,
    next_poll_ms: null,
  };
}

test('scrypt and Equihash rigs stay out of the bitcoin hashrate and J/TH totals, and are counted apart', () => {
  const f = summarizeFleet(
    [
      rig('s19', 'Antminer S19 Pro', 110e12, 3250),
      rig('l3', 'Antminer L3+', 504e6, 800), // 504 MH/s scrypt
      rig('z11', 'Antminer Z11', 135e3, 1418), // 135 kSol/s Equihash
    ],
    { belowShare: 0.9, hottest: 0 },
  );
  assert.equal(f.hashrate_hs, 110e12);
  assert.equal(f.hashrate_rigs, 1);
  assert.equal(f.other_algorithm_rigs, 2);
  assert.equal(f.efficiency_rigs, 1);
  assert.equal(f.efficiency_jth, 29.55);
  // Their power is still real power drawn on site.
  assert.equal(f.power_w, 3250 + 800 + 1418);
});

test('the hottest and below-nameplate lists are the full sort cut to their limit, ties by rig id', () => {
  // Many ties (temperatures in whole degrees, shares in a few steps), ids in mixed case and order.
  const rigs: RigStatus[] = [];
  for (let i = 0; i < 400; i++) {
    const id = `${i % 3 === 0 ? 'R' : 'r'}-${(i * 7919) % 400}`;
    const r = rig(id, 'Antminer S19 Pro', (60 + ((i * 31) % 50)) * 1e12, 3000);
    r.current = {
      ...r.current!,
      hashrate_nominal_hs: 110e12,
      temp_chip_max_c: i % 11 === 0 ? null : 60 + ((i * 13) % 9),
      temp_board_max_c: 50 + (i % 4),
    };
    rigs.push(r);
  }
  const all = summarizeFleet(rigs, { belowShare: 0.9, hottest: 400 });
  const temp = (t: (typeof all.hottest)[number]) => t.temp_chip_max_c ?? t.temp_board_max_c ?? -Infinity;
  const hottest = rigs
    .map((r) => ({
      rig_id: r.rig_id,
      name: r.name,
      temp_chip_max_c: r.current!.temp_chip_max_c,
      temp_board_max_c: r.current!.temp_board_max_c,
    }))
    .sort((a, b) => temp(b) - temp(a) || a.rig_id.localeCompare(b.rig_id));
  assert.deepEqual(all.hottest, hottest);
  for (const k of [1, 5, 37]) {
    const f = summarizeFleet(rigs, { belowShare: 0.9, hottest: k, belowLimit: k });
    assert.deepEqual(f.hottest, hottest.slice(0, k));
    assert.deepEqual(f.below_nameplate.rigs, all.below_nameplate.rigs.slice(0, k));
    assert.equal(f.below_nameplate.count, all.below_nameplate.count);
  }
  const shares = all.below_nameplate.rigs;
  for (let i = 1; i < shares.length; i++) {
    const a = shares[i - 1]!;
    const b = shares[i]!;
    assert.ok(a.share < b.share || (a.share === b.share && a.rig_id.localeCompare(b.rig_id) <= 0));
  }
});
