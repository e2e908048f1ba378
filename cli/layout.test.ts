/** `rigtel layout import`: a rack layout CSV sets each rig's location in the config, comments kept. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config/load.js';
import type { Io } from './io.js';
import { main } from './main.js';

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    env: {},
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

test('layout import sets row/rack/slot by name or address, adds new rigs, keeps comments', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-layout-'));
  try {
    const config = join(dir, 'rigtel.yaml');
    writeFileSync(
      config,
      [
        '# the Abilene site',
        'site: { name: tx-1 }',
        'rigs:',
        '  - name: c1-r01-s19pro # top of the rack',
        '    address: 10.0.0.11:4028',
        '  - address: 10.0.0.12',
        '',
      ].join('\n'),
    );
    const csv = join(dir, 'layout.csv');
    writeFileSync(
      csv,
      [
        'Name,Address,Row,Rack,Slot,Site',
        'c1-r01-s19pro,,A,r01,1,',
        ',10.0.0.12:4028,A,"r01",2,hall-2',
        'c1-r02-m50s,10.0.0.21,B,r02,,',
        '',
      ].join('\r\n'),
    );
    const io = capture();
    assert.equal(await main(['layout', 'import', csv, '--config', config, '--write'], io), 0, io.stderr);
    assert.match(io.stdout, /2 rigs located, 1 added/);
    const text = readFileSync(config, 'utf8');
    assert.match(text, /# the Abilene site/);
    assert.match(text, /# top of the rack/);
    const loaded = loadConfig(config, {});
    assert.deepEqual(
      loaded.rigs.map((r) => [r.name ?? r.address, r.location]),
      [
        ['c1-r01-s19pro', { row: 'A', rack: 'r01', slot: 1 }],
        ['10.0.0.12', { row: 'A', rack: 'r01', slot: 2, site: 'hall-2' }],
        ['c1-r02-m50s', { row: 'B', rack: 'r02' }],
      ],
    );

    // A bad row names its line; nothing is written.
    writeFileSync(csv, 'name,row,rack,slot\nc1-r01-s19pro,A,r01,first\n');
    const bad = capture();
    assert.equal(await main(['layout', 'import', csv, '--config', config, '--write'], bad), 1);
    assert.match(bad.stderr, /^RT_ERR_LAYOUT_CSV: .*layout\.csv:2: slot 'first' is not a whole number/m);
    assert.equal(readFileSync(config, 'utf8'), text);
    writeFileSync(csv, 'name,row,rack\nnobody,A,r01\n');
    const unknown = capture();
    assert.equal(await main(['layout', 'import', csv, '--config', config], unknown), 1);
    assert.match(unknown.stderr, /no rig named 'nobody'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
