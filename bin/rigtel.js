#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point; the node flag on the first line sizes the main thread's young generation (cli/heap.ts).
// `npm ci` compiles the TypeScript into dist/ (the `prepare` script); while dist/ matches the sources
// (bin/stamp.js) it is loaded directly, so `rigtel --help` starts in a fraction of a second. Otherwise (a source
// changed, or no build) the TypeScript runs through tsx, as in development.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sourceStamp } from './stamp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function freshDist() {
  if (process.env.RIGTEL_NO_DIST) return false;
  try {
    return readFileSync(join(root, 'dist', '.stamp'), 'utf8').trim() === sourceStamp(root);
  } catch {
    return false;
  }
}

let main;
if (freshDist()) {
  ({ main } = await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
