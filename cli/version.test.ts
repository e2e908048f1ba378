/** `rigtel --version` from both entry paths: compiled dist/ when fresh, tsx otherwise; same answer. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'rigtel.js');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

test('rigtel --version prints the package version through tsx and through dist/ alike', () => {
  const viaTsx = execFileSync(process.execPath, [bin, '--version'], {
    cwd: root,
    env: { ...process.env, RIGTEL_NO_DIST: '1' },
  }).toString();
  assert.equal(viaTsx, `rigtel ${version}\n`);
  // Whatever state dist/ is in (fresh, stale or absent), the answer is the same.
  assert.equal(execFileSync(process.execPath, [bin, '--version'], { cwd: root }).toString(), viaTsx);
  assert.match(execFileSync(process.execPath, [bin, '--help'], { cwd: root }).toString(), /--version/);
});
