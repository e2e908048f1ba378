import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimatePowerW, lookupModel, MODELS, normalizeModelKey } from './models.js';
import { emptyReading } from './sample.js';

describe('model table', () => {
  it('matches tolerant spellings and no wrong model', () => {
    assert.equal(lookupModel('Antminer S19JPRO Hiveon')?.key, 's19jpro');
    assert.equal(lookupModel('Antminer S21 XP Hyd.')?.key, 's21xphyd');
    assert.equal(lookupModel('Antminer S9 (vnish 3.8.6)')?.key, 's9');
    assert.equal(lookupModel('Antminer S19 Pro')?.key, 's19pro');
    assert.equal(lookupModel('Antminer S19')?.key, 's19');
    assert.equal(lookupModel('Whatsminer M30S+VE40')?.key, 'm30s+');
    assert.equal(lookupModel('M30S++V20')?.key, 'm30s++');
    assert.equal(lookupModel('AvalonMiner 1246-81')?.key, '1246');
    assert.equal(lookupModel('Antminer S9 Pro'), null);
    assert.equal(lookupModel('Unknown Z99'), null);
    assert.equal(lookupModel(null), null);
    assert.equal(normalizeModelKey('Antminer S19 Hydro'), 's19hyd');
  });

  it('keys are unique and normalized', () => {
    const keys = MODELS.map((m) => m.key);
    assert.equal(new Set(keys).size, keys.length);
    for (const m of MODELS) assert.equal(lookupModel(m.name)?.key, m.key, m.name);
  });

  it('every row has positive figures and a source', () => {
    for (const m of MODELS) {
      assert.ok(
        m.hashrate_hs > 0 && m.power_w > 0 && m.boards > 0 && m.fans >= 0 && m.source.length > 0,
        m.key,
      );
    }
  });

  it('estimates power from nameplate efficiency, null when not hashing or unknown', () => {
    const base = emptyReading('antminer');
    base.identity.model = 'Antminer S19 Pro';
    base.state = 'mining';
    base.hashrate_hs = 110e12;
    assert.equal(estimatePowerW(base), 3250);
    base.hashrate_hs = 55e12;
    assert.equal(estimatePowerW(base), 1625);
    base.state = 'sleeping';
    assert.equal(estimatePowerW(base), null);
    base.state = 'mining';
    base.identity.model = 'Mystery 1';
    assert.equal(estimatePowerW(base), null);
  });
});
