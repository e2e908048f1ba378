// Polls in worker threads against emulated rigs on loopback, through the real drivers, scheduler, journal and
// store: the same readings as polling on the main thread, deadlines still cut hung rigs, named errors survive
// the thread boundary, a killed worker costs only its polls in flight (recorded as errors) and is replaced, and
// a rig is always polled by the same worker, so what one learned of its firmware is not learned again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import type { MinerDriver } from '../protocols/driver.js';
import { type EmulatedFleet, startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { startEmulatedRig } from '../protocols/emulator/server.js';
import { driverFor } from '../protocols/registry.js';
import type { Family } from '../protocols/sample.js';
import { silentLogger } from './journal.js';
import { homeIndex, PollWorkerPool } from './poll-workers.js';
import { type CollectorRuntime, startCollector, targetsFromConfig } from './runtime.js';

const dirs: string[] = [];
let fleet: EmulatedFleet;
before(async () => {
  fleet = await startEmulatedFleet({ count: 10, host: '127.0.0.1', basePort: 0, mix: 'mixed', seed: 11 });
});
after(async () => {
  await fleet?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function configFor(deadlineMs = 2500) {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-workers-'));
  dirs.push(dir);
  return validateConfig({
    storage: { dir, journal_fsync: 'off' },
    poll: {
      interval_ms: 30_000,
      connect_timeout_ms: 500,
      command_timeout_ms: 1500,
      poll_deadline_ms: deadlineMs,
      concurrency: 16,
    },
    rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address, family: r.family })),
  });
}

async function sweep(
  drivers: (f: Family | 'auto') => MinerDriver,
  deadlineMs?: number,
  during?: (rt: CollectorRuntime) => void,
) {
  const config = configFor(deadlineMs);
  const rt = await startCollector(config, targetsFromConfig(config), {
    log: silentLogger,
    driverFor: drivers,
    autoStart: false,
  });
  try {
    const done = rt.sweepNow();
    during?.(rt);
    await done;
    return new Map(rt.fleet.list().map((r) => [r.name ?? r.address, r]));
  } finally {
    await rt.stop();
  }
}

async function pool(size: number, deadlineMs = 2500) {
  const p = new PollWorkerPool({ size, deadlineMs, familyOf: (f) => driverFor(f).family });
  await p.ready();
  return p;
}

describe('poll workers (emulated fleet)', () => {
  it('poll_workers=2 reads the same rigs, states and figures as polling on the main thread', async () => {
    const main = await sweep(driverFor);
    const p = await pool(2);
    try {
      const threaded = await sweep((f) => p.driverFor(f));
      assert.equal(threaded.size, fleet.rigs.length);
      let up = 0;
      for (const [name, a] of main) {
        const b = threaded.get(name);
        assert.ok(b, name);
        assert.equal(b.rig_id, a.rig_id, name);
        assert.equal(b.state, a.state, `${name}: ${JSON.stringify(b.last_error)}`);
        assert.equal(b.current?.identity.model, a.current?.identity.model, name);
        assert.equal(b.current?.identity.mac, a.current?.identity.mac, name);
        assert.equal(b.current?.poll.ok, a.current?.poll.ok, name);
        if (a.current?.poll.ok) up += 1;
        for (const k of ['hashrate_hs', 'power_w', 'temp_chip_max_c'] as const) {
          const x: number | null = a.current?.[k] ?? null;
          const y: number | null = b.current?.[k] ?? null;
          assert.equal(y === null, x === null, `${name} ${k}: ${x} vs ${y}`);
          // The emulator adds noise between replies: within 15 %.
          if (x !== null && y !== null)
            assert.ok(Math.abs(x - y) <= Math.abs(x) * 0.15 + 1, `${name} ${k}: ${x} vs ${y}`);
        }
        assert.equal(b.current?.power_source ?? null, a.current?.power_source ?? null, name);
      }
      assert.ok(up >= 8, `most rigs answered (${up})`);
      assert.equal(p.stats().restarts, 0);
    } finally {
      await p.close();
    }
  });

  it('every poll of a rig runs in the same worker: three workers open as many connections as one', async () => {
    // Stock S19 firmware refuses joined commands; a worker learns that on its first poll of the rig (one
    // connection more) and then asks single commands. Polls in a shuffled order, all rigs at once, so the
    // least busy worker would differ from poll to poll.
    const rigs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => startEmulatedRig({ personality: 'antminer-s19', seed: 100 + i })),
    );
    const connections = async (workers: number) => {
      const p = await pool(workers);
      const before = rigs.reduce((a, r) => a + r.stats().connections, 0);
      try {
        const driver = p.driverFor('antminer');
        for (let round = 0; round < 4; round++) {
          const order = rigs.map((_, i) => (i * (round + 1) + round) % rigs.length);
          const readings = await Promise.all(
            order.map((i) => {
              const [host, port] = rigs[i]!.address.split(':') as [string, string];
              const target = {
                host,
                port: Number(port),
                family: 'antminer' as const,
                connectTimeoutMs: 1000,
                commandTimeoutMs: 2000,
                maxReplyBytes: 1 << 20,
              };
              return driver.poll(target, new AbortController().signal);
            }),
          );
          for (const r of readings) assert.notEqual(r.state, 'offline');
        }
      } finally {
        await p.close();
      }
      return rigs.reduce((a, r) => a + r.stats().connections, 0) - before;
    };
    try {
      const one = await connections(1);
      const three = await connections(3);
      assert.ok(one > 24, `more than one connection a poll: ${one}`);
      assert.equal(three, one);
    } finally {
      await Promise.all(rigs.map((r) => r.close()));
    }
  });

  it('rigs are spread evenly over the workers, odd and even addresses alike', () => {
    for (const workers of [2, 3, 7]) {
      const counts = new Array<number>(workers).fill(0);
      for (let i = 1; i < 12_000; i += 2) counts[homeIndex(`10.0.${i >> 8}.${i & 255}:4028`, workers)]! += 1;
      // Within 5 standard deviations of a uniform spread; every odd host on one worker fails by far.
      const expected = 6000 / workers;
      for (const c of counts)
        assert.ok(Math.abs(c - expected) < 5 * Math.sqrt(expected), `${workers}: ${counts}`);
    }
    assert.equal(homeIndex('10.0.0.1:4028', 1), 0);
  });

  it('a hung rig is cut at the deadline and an oversize reply keeps its named error', async () => {
    const hung = fleet.rigs[0]!;
    const huge = fleet.rigs[1]!;
    await hung.setFault('hang');
    await huge.setFault('oversize');
    const p = await pool(2, 2500);
    try {
      const t0 = performance.now();
      const rigs = await sweep((f) => p.driverFor(f), 2500);
      assert.ok(performance.now() - t0 < 10_000);
      const hs = rigs.get(hung.name)!;
      assert.equal(hs.state, 'offline');
      assert.ok(
        ['RT_ERR_PROTO_TIMEOUT', 'RT_ERR_SCHED_POLL_DEADLINE'].includes(hs.last_error?.code ?? ''),
        JSON.stringify(hs.last_error),
      );
      assert.equal(rigs.get(huge.name)!.last_error?.code, 'RT_ERR_PROTO_REPLY_TOO_LARGE');
      for (const r of fleet.rigs.slice(2)) assert.ok(rigs.get(r.name)!.current, r.name);
    } finally {
      await hung.setFault('none');
      await huge.setFault('none');
      await p.close();
    }
  });

  it('a killed worker fails its polls in flight with a named error and is replaced', async () => {
    const hung = fleet.rigs.slice(0, 3);
    for (const r of hung) await r.setFault('hang');
    const p = await pool(1, 8000);
    try {
      const rigs = await sweep(
        (f) => p.driverFor(f),
        8000,
        (rt) => {
          // Kill the worker once every healthy rig has answered: only the hung rigs' polls are in flight.
          let ok = 0;
          rt.onSample((s) => {
            if (s.poll.ok && ++ok === fleet.rigs.length - hung.length) void p.kill(0);
          });
        },
      );
      for (const r of hung) {
        const st = rigs.get(r.name)!;
        assert.equal(st.state, 'offline');
        assert.equal(
          st.last_error?.code,
          'RT_ERR_SCHED_WORKER_DIED',
          `${r.name}: ${JSON.stringify(st.last_error)}`,
        );
      }
      for (const r of fleet.rigs.slice(3))
        assert.ok(rigs.get(r.name)!.current, `${r.name} answered before the kill`);
      const s = p.stats();
      assert.equal(s.restarts, 1);
      assert.ok(s.lost >= 3);
      // The replacement polls.
      for (const r of hung) await r.setFault('none');
      const again = await sweep((f) => p.driverFor(f));
      for (const r of hung) assert.ok(again.get(r.name)!.current, r.name);
    } finally {
      for (const r of hung) await r.setFault('none');
      await p.close();
    }
  });

  it('a worker that keeps dying at once is restarted later each time; meanwhile its polls fail with a named error', async () => {
    const p = await pool(1);
    try {
      await p.kill(0); // the first early death: replaced at once
      await p.ready();
      await p.kill(0); // the second in a row: the replacement waits (500 ms)
      const down = await sweep((f) => p.driverFor(f));
      for (const r of fleet.rigs)
        assert.equal(down.get(r.name)!.last_error?.code, 'RT_ERR_SCHED_WORKER_DIED', r.name);
      assert.equal(p.stats().restarts, 2);
      await new Promise((r) => setTimeout(r, 800));
      await p.ready();
      const up = await sweep((f) => p.driverFor(f));
      for (const r of fleet.rigs) assert.ok(up.get(r.name)!.current, `${r.name} answers after the restart`);
    } finally {
      await p.close();
    }
  });
});
