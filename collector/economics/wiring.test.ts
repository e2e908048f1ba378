import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../config/load.js';
import { Fleet } from '../fleet.js';
import { targetsFromConfig } from '../runtime.js';
import { rigMetaFrom } from './wiring.js';

describe('rig meta for economics', () => {
  it("gives a rig's configured rack tag, null for a rig without one or not in the fleet", () => {
    const config = validateConfig({
      rigs: [
        { name: 'r1', address: '10.0.0.1', tags: { rack: 'B07' } },
        { name: 'r2', address: '10.0.0.2', tags: { owner: 'x' } },
        { address: '10.0.0.3:4028', tags: { rack: 'B08' } },
      ],
    });
    const meta = rigMetaFrom(new Fleet(targetsFromConfig(config)), config);
    assert.deepEqual(meta('r1'), { model: null, rack: 'B07' });
    assert.deepEqual(meta('r2'), { model: null, rack: null });
    assert.deepEqual(meta('10.0.0.3:4028'), { model: null, rack: 'B08' });
    assert.deepEqual(meta('r9'), { model: null, rack: null });
  });
});
