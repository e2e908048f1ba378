import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkImports, KIT_DIR } from './check-imports.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rigtel-imports-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('import boundaries', () => {
  const roots: string[] = [];
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('the repo keeps every rule in force', () => {
    const errors = checkImports(repoRoot).filter((v) => !v.pending);
    assert.deepEqual(
      errors.map((v) => `${v.from}:${v.line} ${v.spec}`),
      [],
    );
  });

  it('flags each forbidden import with its file, line and rule', () => {
    const root = tree({
      'protocols/sample.ts': 'export type Sample = {};\n',
      'collector/journal.ts': 'export class Journal {}\n',
      'collector/views.ts': 'export type FleetView = {};\n',
      'collector/fleet.ts': 'export class Fleet {}\n',
      // protocols reaching into the collector
      'protocols/emulator/bad.ts':
        "import { Journal } from '../../collector/journal.js';\nexport const j = Journal;\n",
      // api reading a collector internal, written over several lines
      'api/route.ts': [
        "import type { FleetView } from '../collector/views.js';",
        'import {',
        '  Fleet,',
        "} from '../collector/fleet.js';",
        'export const f: [FleetView?, typeof Fleet?] = [];',
        '',
      ].join('\n'),
      // a sink loading the journal dynamically
      'collector/sinks/s.ts': "export const load = () => import('../journal.js');\n",
      // lib importing the project
      'lib/l.ts': "export type { Sample } from '../protocols/sample.js';\n",
      // an import shown in a comment is not an import
      'protocols/emulator/ok.ts':
        "/**\n * import { Journal } from '../../collector/journal.js';\n */\nexport const x = 1;\n",
      // test code wires components across folders freely
      'protocols/emulator/wire.test.ts':
        "import { Journal } from '../../collector/journal.js';\nvoid Journal;\n",
      // family folders: only the kit, sample.ts and lib
      'protocols/acme/driver.ts': "import '../tcp.js';\nimport '../kit/plan.js';\nimport '../sample.js';\n",
    });
    roots.push(root);
    const found = checkImports(root).map(
      (v) => `${v.pending ? 'warn' : 'error'} ${v.from}:${v.line} ${v.spec}`,
    );
    assert.deepEqual(found.sort(), [
      'error api/route.ts:4 ../collector/fleet.js',
      'error collector/sinks/s.ts:1 ../journal.js',
      'error lib/l.ts:1 ../protocols/sample.js',
      'error protocols/acme/driver.ts:1 ../tcp.js',
      'error protocols/emulator/bad.ts:1 ../../collector/journal.js',
    ]);
    assert.equal(KIT_DIR, 'protocols/kit/');
  });

  it('the command exits 1 and names the file and rule on a forbidden import, 0 when the rules are kept', () => {
    const bad = tree({
      'collector/x.ts': 'export const x = 1;\n',
      'protocols/emulator/y.ts': "import { x } from '../../collector/x.js';\nexport const y = x;\n",
    });
    const good = tree({
      'protocols/kit/index.ts': 'export const t = 1;\n',
      'protocols/acme/index.ts': "export { t } from '../kit/index.js';\n",
    });
    roots.push(bad, good);
    const script = join(repoRoot, 'scripts', 'check-imports.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, bad], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /protocols\/emulator\/y\.ts:1 imports '\.\.\/\.\.\/collector\/x\.js'/);
    assert.match(r.stderr, /rule: protocols\/ never imports collector\//);
    const g = spawnSync(process.execPath, ['--import', 'tsx', script, good], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    assert.equal(g.status, 0, g.stdout + g.stderr);
    assert.match(g.stdout, /folder rules kept/);
  });
});
