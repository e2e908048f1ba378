import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import { rigNamesFromConfig } from './rig-names.js';

describe('rig names by address', () => {
  const config = validateConfig({
    site: { name: 'tx-1' },
    rigs: [
      { name: 'c1-r01', address: '10.0.0.11' },
      { address: '10.0.0.12:4029', location: { row: 'A', rack: 'r01' } },
      { address: '[fd00::13]' },
    ],
  });

  it('gives the configured name and place for any form of the address, nothing for a rig with neither', () => {
    const names = rigNamesFromConfig(config);
    assert.deepEqual(names('10.0.0.11:4028'), { name: 'c1-r01', location: null });
    assert.deepEqual(names('10.0.0.11'), { name: 'c1-r01', location: null });
    assert.deepEqual(names('10.0.0.12:4029'), {
      name: null,
      location: { site: 'tx-1', row: 'A', rack: 'r01', slot: null },
    });
    assert.deepEqual(names('[fd00::13]:4028'), { name: null, location: null });
    assert.deepEqual(names('10.0.0.99:4028'), { name: null, location: null });
  });

  it('builds one look-up per config', () => {
    assert.equal(rigNamesFromConfig(config), rigNamesFromConfig(config));
    assert.notEqual(rigNamesFromConfig(config), rigNamesFromConfig(validateConfig({ rigs: [] })));
  });
});
