import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ScanReport } from '../collector/discovery.js';
import { loadConfig } from '../config/load.js';
import { startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { type FixtureRig, startFixtureRig } from '../testing/fixture-rig.js';
import { testBasePort } from '../testing/ports.js';
import type { Io } from './io.js';
import { scanCommand } from './scan.js';

const rigs: FixtureRig[] = [];
const dir = mkdtempSync(join(tmpdir(), 'rigtel-scan-'));

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

before(async () => {
  rigs.push(
    await startFixtureRig({ host: '127.78.0.1', port: 4028, replies: { version: 'vnish_s9_version.txt' } }),
    await startFixtureRig({
      host: '127.78.0.2',
      port: 4028,
      replies: { version: 'antminer_s19pro_version.txt' },
    }),
  );
});
after(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  rmSync(dir, { recursive: true, force: true });
});

test('table and JSON output', async () => {
  const io = capture();
  assert.equal(await scanCommand(['127.78.0.0/29', '--ports', '4028', '--timeout', '300'], io), 0);
  assert.match(io.stdout, /^IP +PORT +MAC +MAKE +MODEL +FIRMWARE +SERIAL +TH\/S +FAMILY +STATUS/);
  assert.match(io.stdout, /127\.78\.0\.1 +4028 +- +Bitmain +Antminer S9 +VNish 3\.8\.6 \(cgminer 4\.11\.1\)/);
  assert.match(io.stderr, /6 addresses, 6 probes .*2 identified, 0 unidentified/);
  const json = capture();
  assert.equal(await scanCommand(['127.78.0.2', '--ports=4028', '--json'], json), 0);
  const report = JSON.parse(json.stdout);
  assert.equal(report.results.length, 1);
  assert.equal(report.results[0].model, 'Antminer S19 Pro');
});

test('--write-config adds new rigs once and the file still passes config check', async () => {
  const file = join(dir, 'rigtel.yaml');
  writeFileSync(
    file,
    '# my farm\nsite:\n  name: farm-a\nrigs:\n  - address: 127.78.0.1:4028\n    family: vnish\n',
  );
  const io = capture();
  assert.equal(await scanCommand(['127.78.0.0/29', '--ports', '4028', '--write-config', file], io), 0);
  assert.match(io.stderr, /1 rig\(s\) added, 1 already present/);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /# my farm/);
  const config = loadConfig(file, {});
  assert.deepEqual(
    config.rigs.map((r) => [r.address, r.family]),
    [
      ['127.78.0.1:4028', 'vnish'],
      ['127.78.0.2:4028', 'antminer'],
    ],
  );
  const again = capture();
  assert.equal(await scanCommand(['127.78.0.0/29', '--ports', '4028', '--write-config', file], again), 0);
  assert.match(again.stderr, /0 rig\(s\) added, 2 already present/);
});

test('bad input: usage errors exit 2 with a named code', async () => {
  for (const argv of [
    [],
    ['127.0.0.5/24'],
    ['127.0.0.0/8'],
    ['127.0.0.1', '--ports', 'http'],
    ['127.0.0.1', '--concurrency', '0'],
  ]) {
    const io = capture();
    assert.equal(await scanCommand(argv, io), 2, argv.join(' '));
    assert.match(io.stderr, /^RT_ERR_(CLI_USAGE|DISCOVERY_\w+): /);
  }
  const io = capture();
  assert.equal(await scanCommand(['--help'], io), 0);
  assert.match(io.stdout, /usage: rigtel scan/);
});

test('scan over the demo fleet (24 rigs on one address) finds all 24, one per port, from a port range', async () => {
  // 24 consecutive free ports: other tests on this machine take ports too, so a clash picks another block.
  let base = 0;
  let fleet: Awaited<ReturnType<typeof startEmulatedFleet>> | undefined;
  for (let attempt = 0; !fleet; attempt++) {
    base = testBasePort();
    try {
      fleet = await startEmulatedFleet({ count: 24, host: '127.0.0.1', basePort: base });
    } catch (err) {
      if (attempt >= 4 || !/EADDRINUSE/.test(String((err as Error).message))) throw err;
    }
  }
  try {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const io = capture();
    const code = await scanCommand(['127.0.0.1', '--ports', `${base}-${base + 23}`, '--json'], io);
    process.off('warning', onWarning);
    assert.deepEqual(warnings, [], 'no MaxListenersExceededWarning or other warnings');
    assert.equal(code, 0, io.stderr);
    const report = JSON.parse(io.stdout) as ScanReport;
    const found = report.results.filter((r) => r.status === 'identified');
    assert.equal(found.length, 24, JSON.stringify(report.results.filter((r) => r.status !== 'identified')));
    assert.deepEqual(
      found.map((r) => r.port),
      Array.from({ length: 24 }, (_, i) => base + i),
    );

    // The table fits the terminal: 80 columns here.
    const narrow = capture();
    narrow.env = { COLUMNS: '80' };
    assert.equal(await scanCommand(['127.0.0.1', '--ports', `${base}-${base + 23}`], narrow), 0);
    const lines = narrow.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 25);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.match(lines[0]!, /^IP\s+PORT\s+.*MODEL.*STATUS$/);
  } finally {
    await fleet.stop();
  }
});
