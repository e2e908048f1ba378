// rigtel run sets V8's heap growing factor unless the operator already chose one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tuneHeapGrowth } from './heap.js';

test('the operator’s --heap-growing-percent (node flag or NODE_OPTIONS) is left alone', () => {
  assert.equal(tuneHeapGrowth(['--heap-growing-percent=50'], ''), false);
  assert.equal(tuneHeapGrowth([], '--max-old-space-size=512 --heap_growing_percent=80'), false);
});

test('without one, it is set (V8 accepts it after start-up)', () => {
  assert.equal(tuneHeapGrowth([], ''), true);
});
