import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StringPool } from './string-pool.js';

describe('string pool', () => {
  it('gives back an equal string, and passes null and long strings through unpooled', () => {
    const pool = new StringPool(4, 8);
    assert.equal(pool.intern('Alive'), 'Alive');
    assert.equal(pool.intern(`Al${'ive'}`), 'Alive');
    assert.equal(pool.intern(null), null);
    assert.equal(pool.intern('a'.repeat(9)), 'a'.repeat(9));
    assert.equal(pool.size(), 1);
  });

  it('holds at most two generations however many different strings it is given', () => {
    const pool = new StringPool(100, 64);
    for (let i = 0; i < 10_000; i++) assert.equal(pool.intern(`note ${i}`), `note ${i}`);
    assert.ok(pool.size() <= 200, `size ${pool.size()}`);
  });

  it('keeps a string asked for in every generation and lets one-off strings go', () => {
    const pool = new StringPool(2, 64);
    pool.intern('Alive');
    for (let i = 0; i < 10; i++) {
      // Two one-off strings fill the young generation: the next one starts a new one.
      pool.intern(`one-off ${i}a`);
      pool.intern(`one-off ${i}b`);
      // Asked once a generation, Alive is still there: found in the old generation, it was brought back into the
      // young one before the old one was dropped.
      assert.ok(pool.has('Alive'), `generation ${i}`);
      pool.intern('Alive');
    }
    assert.ok(!pool.has('one-off 0a'));
    assert.ok(pool.has('one-off 9b'));
  });
});
