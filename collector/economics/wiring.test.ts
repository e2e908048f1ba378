import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../config/load.js';
import { Fleet } from '../fleet.js';
import { targetsFromConfig } from '../runtime.js';
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
});
