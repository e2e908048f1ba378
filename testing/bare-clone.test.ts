// The repo stands alone: a clone of the committed HEAD, in a temp dir with no sibling folders, runs the demo
// (`rigtel run` on the emulated fleet) until /v1/fleet shows live rigs, and stops cleanly on SIGTERM.
// Only node_modules is linked in (the dependencies `npm ci` would install), never anything beside the repo.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runDemoUntilLive } from './demo-run.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('bare clone', () => {
  const temp = mkdtempSync(join(tmpdir(), 'rigtel-clone-'));
  after(() => rmSync(temp, { recursive: true, force: true }));

  it('a clone of HEAD with no sibling folders runs the demo until rigs are live, then exits 0 on SIGTERM', async () => {
    const head = execFileSync('git', ['-C', repoRoot, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const clone = join(temp, 'rigtel');
    execFileSync('git', ['clone', '--quiet', '--no-checkout', repoRoot, clone]);
    execFileSync('git', ['-C', clone, 'checkout', '--quiet', '--detach', head]);
    assert.deepEqual(readdirSync(temp), ['rigtel'], 'the clone has no sibling folders');
    assert.ok(existsSync(join(clone, 'protocols', 'fixtures', 'real', 'INDEX.md')), 'the real replies ship');
    symlinkSync(realpathSync(join(repoRoot, 'node_modules')), join(clone, 'node_modules'), 'dir');

    const r = await runDemoUntilLive(clone, { dataDir: join(temp, 'data') });
    assert.ok((r.fleet.hashrate_hs ?? 0) > 0, 'fleet hashrate > 0');
    assert.ok(r.fleet.rigs >= 1);
    assert.equal(r.code, 0, `exit code after SIGTERM\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /RT_ERR_EMU_FIXTURES_MISSING/);
  });
});
