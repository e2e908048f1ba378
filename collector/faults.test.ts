// End to end: a hanging and an oversize emulated rig among healthy ones, through the real cgminer client,
// drivers, scheduler, journal and embedded store. The faulty rigs must cost one slot each until their deadline
// and come out as offline samples with named errors; the healthy rigs must not notice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import { startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { driverFor } from '../protocols/registry.js';
import type { Sample } from '../protocols/sample.js';
import { silentLogger } from './journal.js';
import { startCollector, targetsFromConfig } from './runtime.js';

/** Reply cap for the memory test; RIGTEL_TEST_MAX_REPLY lets one check the test fails without a cap. */
const MAX_REPLY = Number(process.env.RIGTEL_TEST_MAX_REPLY ?? 256 * 1024);
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

  it('every other fault mode gets its own named error while the healthy rigs keep answering', async () => {
    // One rig per fault mode, then healthy ones. Each faulty rig must come out offline with the error a site
    // engineer can act on; every healthy rig must answer in the same sweep.
    const expected: Record<string, string[]> = {
      drip: ['RT_ERR_PROTO_TIMEOUT', 'RT_ERR_SCHED_POLL_DEADLINE'],
      reset: ['RT_ERR_PROTO_RESET'],
      garbage: ['RT_ERR_PROTO_DECODE'],
      refuse: ['RT_ERR_PROTO_CONNECT_REFUSED'],
      empty: ['RT_ERR_PROTO_EMPTY_REPLY'],
      slow: ['RT_ERR_PROTO_TIMEOUT', 'RT_ERR_SCHED_POLL_DEADLINE'],
    };
    const modes = Object.keys(expected) as Array<'drip' | 'reset' | 'garbage' | 'refuse' | 'empty' | 'slow'>;
    const fleet = await startEmulatedFleet({
      count: modes.length + 4,
      host: '127.0.0.1',
      basePort: 0,
      mix: 'antminer',
      seed: 11,
    });
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-faults-'));
    dirs.push(dir);
    try {
      for (const [i, mode] of modes.entries()) {
        await fleet.rigs[i]!.setFault(mode, { slowDelayMs: 4000, dripIntervalMs: 100 });
      }
      const config = validateConfig({
        storage: { dir, journal_fsync: 'off' },
        poll: {
          interval_ms: 30_000,
          connect_timeout_ms: 500,
          command_timeout_ms: 1500,
          poll_deadline_ms: 2500,
          concurrency: 4,
        },
        rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: r.family })),
      });
      const rt = await startCollector(config, targetsFromConfig(config), {
        log: silentLogger,
        driverFor,
        autoStart: false,
      });
      try {
        const round = await rt.sweepNow();
        assert.equal(round.polled, fleet.rigs.length);
        assert.equal(round.answered, 4);
        for (const [i, mode] of modes.entries()) {
          const st = rt.fleet.get(fleet.rigs[i]!.name)!;
          assert.equal(st.state, 'offline', mode);
          assert.equal(st.current, null, mode);
          assert.ok(
            expected[mode]!.includes(st.last_error?.code ?? ''),
            `${mode}: ${JSON.stringify(st.last_error)}`,
          );
        }
        for (const r of fleet.rigs.slice(modes.length))
          assert.ok(rt.fleet.get(r.name)!.current, `${r.name} is up`);
      } finally {
        await rt.stop();
      }
    } finally {
      await fleet.stop();
    }
  });

  it('an endless reply is cut at max_reply_bytes: peak memory stays bounded while it streams', async () => {
    const fleet = await startEmulatedFleet({
      count: 3,
      host: '127.0.0.1',
      basePort: 0,
      mix: 'antminer',
      seed: 5,
    });
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-faults-'));
    dirs.push(dir);
    try {
      // 512 MiB offered per poll: a client that buffered it all would peak hundreds of MiB above the start.
      await fleet.rigs[0]!.setFault('oversize', { oversizeBytes: 512 * 1024 * 1024 });
      await fleet.rigs[1]!.setFault('hang');
      const config = validateConfig({
        storage: { dir, journal_fsync: 'off' },
        poll: {
          interval_ms: 30_000,
          connect_timeout_ms: 500,
          command_timeout_ms: 3000,
          poll_deadline_ms: 4000,
          max_reply_bytes: MAX_REPLY,
        },
        rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: r.family })),
      });
      const rt = await startCollector(config, targetsFromConfig(config), {
        log: silentLogger,
        driverFor,
        autoStart: false,
      });
      const used = () => {
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      try {
        await rt.sweepNow();
        const base = used();
        let peak = base;
        const sampler = setInterval(() => {
          peak = Math.max(peak, used());
        }, 5);
        try {
          for (let i = 0; i < 3; i++) {
            const round = await rt.sweepNow();
            assert.ok(round.answered >= 1);
          }
        } finally {
          clearInterval(sampler);
        }
        const peakMiB = (peak - base) / 2 ** 20;
        assert.ok(
          peakMiB < 96,
          `memory peaked ${peakMiB.toFixed(1)} MiB above the start while the reply streamed`,
        );
        assert.equal(rt.fleet.get(fleet.rigs[0]!.name)!.last_error?.code, 'RT_ERR_PROTO_REPLY_TOO_LARGE');
        assert.ok(rt.fleet.get(fleet.rigs[2]!.name)!.current, 'the healthy rig answers every sweep');
      } finally {
        await rt.stop();
      }
    } finally {
      await fleet.stop();
    }
  });
});
