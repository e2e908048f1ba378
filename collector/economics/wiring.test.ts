import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateConfig } from '../../config/load.js';
import { makeSample } from '../../testing/sample-factory.js';
import { Fleet } from '../fleet.js';
import { targetsFromConfig } from '../runtime.js';
import { EmbeddedStore } from '../sinks/embedded.js';
import { rigMetaFrom } from './wiring.js';

describe('rig meta for economics', () => {
  it("gives a rig's rack tag, else its location as row/rack; null for a rig with neither or not in the fleet", () => {
    const config = validateConfig({
      rigs: [
        { name: 'r1', address: '10.0.0.1', tags: { rack: 'B07' } },
        { name: 'r2', address: '10.0.0.2', tags: { owner: 'x' } },
        { address: '10.0.0.3:4028', tags: { rack: 'B08' } },
        // No port: the fleet knows it as 10.0.0.4:4028.
        { address: '10.0.0.4', tags: { rack: 'B09' } },
        // Where it stands, as the floor map has it; a rack tag wins over it.
        { name: 'r5', address: '10.0.0.5', location: { row: 'A', rack: 'r01', slot: 3 } },
        { name: 'r6', address: '10.0.0.6', location: { site: 'hall-2', row: 'B', rack: 'r01' } },
        { name: 'r7', address: '10.0.0.7', location: { row: 'A', rack: 'r01' }, tags: { rack: 'B10' } },
      ],
    });
    const meta = rigMetaFrom(new Fleet(targetsFromConfig(config)), config);
    assert.deepEqual(meta('r1'), { model: null, rack: 'B07' });
    assert.deepEqual(meta('r2'), { model: null, rack: null });
    assert.deepEqual(meta('10.0.0.3:4028'), { model: null, rack: 'B08' });
    assert.deepEqual(meta('10.0.0.4:4028'), { model: null, rack: 'B09' });
    assert.deepEqual(meta('r5'), { model: null, rack: 'A/r01' });
    assert.deepEqual(meta('r6'), { model: null, rack: 'hall-2/B/r01' });
    assert.deepEqual(meta('r7'), { model: null, rack: 'B10' });
    assert.deepEqual(meta('r9'), { model: null, rack: null });
  });

  it('gives a rig id no longer in the fleet the rack of the place the store saw it polled at in the period', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-meta-places-'));
    const store = EmbeddedStore.open(dir, {
      rawRetentionHours: 24,
      rollupRetentionDays: 30,
      intervalMs: 300_000,
      backoffMaxMs: 300_000,
    });
    try {
      const config = validateConfig({
        rigs: [
          { name: 'a5', address: '10.0.0.5', tags: { rack: 'R1' } },
          { address: '10.0.0.7', tags: { rack: 'R3' } },
        ],
      });
      const H = 3_600_000;
      const T0 = Date.UTC(2026, 0, 14);
      // The old hardware at 10.0.0.5 (swapped out: not in the fleet any more), then the new one.
      let seq = 0;
      for (let t = T0; t < T0 + 2 * H; t += 300_000)
        store.writeSync([
          {
            seq: ++seq,
            sample: makeSample(t < T0 + H ? 'aa:00:00:00:00:01' : 'aa:00:00:00:00:02', t, {
              address: '10.0.0.5:4028',
            }),
          },
        ]);
      const fleet = new Fleet(targetsFromConfig(config));
      const meta = rigMetaFrom(fleet, config, store);
      assert.equal(meta('aa:00:00:00:00:01', T0, T0 + 2 * H).rack, 'R1');
      assert.equal(meta('aa:00:00:00:00:02', T0, T0 + 2 * H).rack, 'R1');
      // Without the store's place history (or a period), as before: only rigs of the fleet have a rack.
      assert.equal(rigMetaFrom(fleet, config)('aa:00:00:00:00:01', T0, T0 + 2 * H).rack, null);
      assert.equal(meta('a5').rack, 'R1');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
