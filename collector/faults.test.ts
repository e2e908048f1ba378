// End to end: a hanging and an oversize emulated rig among healthy ones, through the real cgminer client,
// drivers, scheduler, journal and embedded store. The faulty rigs must cost one slot each until their deadline
// and come out as offline samples with named errors; the healthy rigs must not notice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import { driverFor } from '../protocols/registry.js';
import type { Sample } from '../protocols/sample.js';
import { startEmulatedFleet } from './emulated-fleet.js';
import { silentLogger } from './journal.js';
import { startCollector, targetsFromConfig } from './runtime.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('collector faults (emulated fleet)', () => {
  it('a hanging and an oversize rig fail with named errors while healthy rigs answer', async () => {
    const fleet = await startEmulatedFleet({
      count: 8,
      host: '127.0.0.1',
      basePort: 0,
      mix: 'antminer',
      seed: 7,
    });
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-faults-'));
    dirs.push(dir);
    try {
      const hung = fleet.rigs[0]!;
      const huge = fleet.rigs[1]!;
      await hung.setFault('hang');
      await huge.setFault('oversize');
      const config = validateConfig({
        storage: { dir, journal_fsync: 'off' },
        poll: {
          interval_ms: 30_000,
          connect_timeout_ms: 500,
          command_timeout_ms: 1500,
          poll_deadline_ms: 2500,
          concurrency: 3,
          max_reply_bytes: 1024 * 1024,
        },
        rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: r.family })),
      });
      const rt = await startCollector(config, targetsFromConfig(config), {
        log: silentLogger,
        driverFor,
        autoStart: false,
      });
      try {
        const order: Sample[] = [];
        rt.onSample((s) => order.push(s));
        const round = await rt.sweepNow();
        assert.equal(round.polled, 8);
        assert.equal(round.answered, 6);

        const byName = (n: string) => rt.fleet.get(n)!;
        const hs = byName(hung.name);
        assert.equal(hs.current, null);
        assert.equal(hs.state, 'offline');
        assert.ok(
          ['RT_ERR_PROTO_TIMEOUT', 'RT_ERR_SCHED_POLL_DEADLINE'].includes(hs.last_error?.code ?? ''),
          `hung rig: ${JSON.stringify(hs.last_error)}`,
        );
        const big = byName(huge.name);
        assert.equal(big.current, null);
        assert.equal(big.last_error?.code, 'RT_ERR_PROTO_REPLY_TOO_LARGE');
        for (const r of fleet.rigs.slice(2)) {
          const st = byName(r.name);
          assert.ok(st.current, `${r.name} is up: ${JSON.stringify(st.last_error)}`);
          assert.equal(st.current.poll.ok, true);
          assert.notEqual(st.current.hashrate_hs, undefined);
        }
        // The hung rig held one of the three slots; every healthy rig still answered before it gave up.
        const hungAt = order.findIndex((s) => s.address === hung.address);
        const healthyAt = order
          .map((s, i) => (fleet.rigs.slice(2).some((r) => r.address === s.address) ? i : -1))
          .filter((i) => i >= 0);
        assert.equal(healthyAt.length, 6);
        assert.ok(Math.max(...healthyAt) < hungAt, 'healthy rigs were not held up by the hung one');

        // The rig recovers: the next sweep sees it up.
        await hung.setFault('none');
        await rt.sweepNow();
        assert.ok(byName(hung.name).current, 'recovered rig is up again');
        assert.equal(byName(hung.name).consecutive_failures, 0);

        assert.equal(await rt.fanout.flush(5000), true);
        const hist = rt.history.history({
          rigId: byName(huge.name).rig_id,
          fromMs: Date.now() - 60_000,
          toMs: Date.now() + 60_000,
          stepS: 120,
        });
        assert.equal(hist[0]!.polls, 2);
        assert.equal(hist[0]!.polls_ok, 0);
        assert.equal(hist[0]!.hashrate_hs, null);
      } finally {
        await rt.stop();
      }
    } finally {
      await fleet.stop();
    }
  });
});
