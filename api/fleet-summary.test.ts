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
