// rigtel run sets V8's heap growing factor unless the operator already chose one, and every launcher sizes the
// main thread's young generation on node's command line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { tuneHeapGrowth, YOUNG_GENERATION_FLAG, youngGenerationSized } from './heap.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('the operator’s --heap-growing-percent (node flag or NODE_OPTIONS) is left alone', () => {
  assert.equal(tuneHeapGrowth(['--heap-growing-percent=50'], ''), false);
  assert.equal(tuneHeapGrowth([], '--max-old-space-size=512 --heap_growing_percent=80'), false);
});

test('without one, it is set (V8 accepts it after start-up)', () => {
  assert.equal(tuneHeapGrowth([], ''), true);
});

test('a semi-space size is seen on the command line or in NODE_OPTIONS, in either spelling', () => {
  assert.equal(youngGenerationSized([YOUNG_GENERATION_FLAG], ''), true);
  assert.equal(youngGenerationSized([], '--max_semi_space_size=8'), true);
  assert.equal(youngGenerationSized(['--max-old-space-size=512'], '--heap-growing-percent=30'), false);
});

test('the bin’s shebang, npm start and the Docker entrypoint all pass the young-generation flag', () => {
  const shebang = read('bin/rigtel.js').split('\n')[0]!;
  assert.match(shebang, /^#!\/usr\/bin\/env -S node /);
  assert.ok(shebang.split(' ').includes(YOUNG_GENERATION_FLAG), shebang);

  const start = JSON.parse(read('package.json')).scripts.start as string;
  assert.deepEqual(start.split(' ').slice(0, 3), ['node', YOUNG_GENERATION_FLAG, 'bin/rigtel.js']);

  const entrypoint = read('docker/Dockerfile')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  assert.deepEqual(JSON.parse(entrypoint!.slice('ENTRYPOINT '.length)), [
    'node',
    YOUNG_GENERATION_FLAG,
    'bin/rigtel.js',
  ]);
});
