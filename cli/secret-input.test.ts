/** One way to pass a secret in every command: an environment variable or a file, never the value itself. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pollFlags } from './poll.js';
import { scanUsage } from './scan.js';
import { secretFromFlags } from './secret-input.js';

test('--password-env and --password-file give the same secret; poll and scan take both', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-secret-'));
  try {
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret-Zx9\nignored second line\n');
    const fromEnv = secretFromFlags({ 'password-env': 'RIGTEL_PW' }, { RIGTEL_PW: 's3cret-Zx9' });
    const fromFile = secretFromFlags({ 'password-file': file }, {});
    assert.equal(fromEnv?.reveal(), 's3cret-Zx9');
    assert.equal(fromFile?.reveal(), 's3cret-Zx9');
    assert.doesNotMatch(JSON.stringify({ fromFile }), /s3cret/, 'never printed');
    assert.equal(secretFromFlags({}, {}), undefined);
    assert.throws(() => secretFromFlags({ 'password-env': 'NOPE' }, {}), /NOPE is not set/);
    assert.throws(
      () => secretFromFlags({ 'password-file': join(dir, 'missing') }, {}),
      /cannot read .* \(ENOENT\)/,
    );
    assert.throws(
      () => secretFromFlags({ 'password-env': 'RIGTEL_PW', 'password-file': file }, { RIGTEL_PW: 'x' }),
      /not both/,
    );
    assert.ok('password-env' in pollFlags && 'password-file' in pollFlags);
    assert.match(scanUsage, /--password-env VAR/);
    assert.match(scanUsage, /--password-file FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
