// `npm run build` (and `prepare`, which `npm ci` runs): compile the TypeScript once into dist/ so `rigtel`
// starts without compiling on every run. bin/rigtel.js uses dist/ only while it is fresh (see sourceStamp).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from '../bin/stamp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  // A production install without dev dependencies: bin/rigtel.js falls back to tsx.
  console.log('rigtel build: typescript is not installed, skipping (rigtel will run through tsx)');
  process.exit(0);
}
const stamp = sourceStamp(root);
rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  console.error('rigtel build: tsc failed; rigtel will run through tsx');
  process.exit(r.status ?? 1);
}
// Files the code reads beside itself, as links into the source tree.
const links = [
  ['package.json', '../package.json'],
  ['web', '../web'],
  ['protocols/fixtures', '../../protocols/fixtures'],
];
for (const [at, target] of links) {
  mkdirSync(dirname(join(dist, at)), { recursive: true });
  symlinkSync(target, join(dist, at));
}
writeFileSync(join(dist, '.stamp'), `${stamp}\n`);
console.log(`rigtel build: dist/ ready (${stamp})`);
