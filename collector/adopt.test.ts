// A rescan finds a rig the config does not list; the running collector polls it from the next sweep on, without
// a restart and without polling the configured one twice. Real scan, real emulated rigs, real collector.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateConfig } from '../config/load.js';
import { startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { driverFor } from '../protocols/registry.js';
import { testBasePort } from '../testing/ports.js';
import { targetsFromScan } from './adopt.js';
import { scanRange } from './discovery.js';
import { silentLogger } from './journal.js';
import { startCollector, targetsFromConfig } from './runtime.js';

test('rigs found by a rescan are adopted by the running collector', async () => {
  const port = testBasePort();
  // Two rigs on two loopback addresses, both on one port like a farm on 4028.
  const fleet = await startEmulatedFleet({
    count: 2,
    hosts: ['127.77.1.1', '127.77.1.2'],
    basePort: port,
    mix: 'antminer',
    seed: 9,
  });
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-adopt-'));
  try {
    const [listed, found] = fleet.rigs;
    const config = validateConfig({
      storage: { dir, journal_fsync: 'off' },
      poll: { connect_timeout_ms: 500, command_timeout_ms: 2000, poll_deadline_ms: 4000 },
      rigs: [{ name: 'listed', address: listed!.address, family: 'antminer' }],
      discovery: { enabled: true, ranges: ['127.77.1.0/29'], ports: [port] },
    });
    const rt = await startCollector(config, targetsFromConfig(config), {
      log: silentLogger,
      driverFor,
      autoStart: false,
    });
    try {
      await rt.sweepNow();
      assert.equal(rt.fleet.list().length, 1);

      const report = await scanRange({
        cidrs: config.discovery.ranges,
        ports: config.discovery.ports,
        concurrency: 16,
        connectTimeoutMs: 300,
        deadlineMs: 2000,
      });
      const known = new Set(rt.fleet.list().map((r) => r.address));
      const targets = targetsFromScan(report, known, config);
      assert.deepEqual(
        targets.map((t) => t.address),
        [found!.address],
        'only the rig the config does not list is adopted',
      );
      assert.equal(targets[0]!.target.family, 'antminer');

      assert.equal(rt.addTargets(targets).length, 1);
      assert.equal(rt.addTargets(targets).length, 0, 'adopting twice polls it once');
      const round = await rt.sweepNow();
      assert.equal(round.polled, 2);
      assert.equal(round.answered, 2);
      const adopted = rt.fleet.get(found!.address);
      assert.ok(adopted?.current, 'the adopted rig is up with a current sample');
      assert.equal(rt.health.polling().rigs, 2);
    } finally {
      await rt.stop();
    }
  } finally {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
