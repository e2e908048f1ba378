import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import {
  AUTO_CONCURRENCY_MAX,
  AUTO_CONCURRENCY_MIN,
  autoConcurrency,
  pollConcurrency,
} from './concurrency.js';

describe('poll.concurrency auto', () => {
  it('leaves room for every rig to hang once per interval, within its floor, ceiling and the open-file limit', () => {
    // 5,000 rigs, 8 s command timeout, 15 s interval: 2,667 could hang at once.
    assert.equal(autoConcurrency(5000, 8000, 15_000, 20_000), 2667);
    assert.equal(autoConcurrency(24, 8000, 30_000, 20_000), AUTO_CONCURRENCY_MIN);
    assert.equal(autoConcurrency(100_000, 8000, 15_000, 1_000_000), AUTO_CONCURRENCY_MAX);
    // A 1,024 open-file limit (a login shell's default) caps it at half.
    assert.equal(autoConcurrency(5000, 8000, 15_000, 1024), 512);
    assert.equal(autoConcurrency(5000, 8000, 15_000, null), 2667);
  });

  it('is the default, and a number in the config is taken as it is', () => {
    const auto = pollConcurrency(validateConfig({}).poll);
    assert.equal(typeof auto, 'function');
    assert.ok((auto as (n: number) => number)(10_000) >= Math.min(AUTO_CONCURRENCY_MAX, 512));
    assert.equal(pollConcurrency(validateConfig({ poll: { concurrency: 64 } }).poll), 64);
    assert.throws(() => validateConfig({ poll: { concurrency: 'lots' } }), /poll\.concurrency/);
  });
});
