/**
 * Scale-out end to end: three `rigtel run` processes (shards 0..2 of 3) over one emulated fleet on loopback,
 * publishing to the real Mosquitto on 127.0.0.1:1883 under a prefix of their own, and one standalone
 * `rigtel api` reading them back. Every rig is polled by exactly one shard; the API's fleet totals are the sum
 * over its rigs; stopping one shard marks exactly its rigs stale, then offline.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { type EmulatedFleet, startEmulatedFleet } from '../protocols/emulator/fleet.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'rigtel.js');
const BROKER = 'mqtt://127.0.0.1:1883';
const RUN = `rigtel-shards-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const SITE = 'shard-site';
const INTERVAL_MS = 2000;
const RIGS = 9;

interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d) => (p.stdout += d));
  child.stderr!.on('data', (d) => (p.stderr += d));
  return p;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 40_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface RigRow {
  rig_id: string;
  address: string;
  state: string;
  stale: boolean;
  hashrate_hs: number | null;
  power_w: number | null;
  last_seen_ms: number | null;
  last_error: { code: string } | null;
}

describe('rigtel api over three collector shards', { timeout: 120_000 }, () => {
  let dir: string;
  let fleet: EmulatedFleet;
  let sub: MqttClient;
  const procs: Proc[] = [];
  /** Rig address → collector ids seen publishing its state. */
  const publishers = new Map<string, Set<string>>();
  const retained = new Set<string>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigtel-shards-'));
    fleet = await startEmulatedFleet({ count: RIGS, host: '127.0.0.1', basePort: 0, mix: 'antminer' });
    sub = await mqtt.connectAsync(BROKER, { clientId: `${RUN}-watch`, clean: true });
    sub.on('message', (topic, payload) => {
      if (payload.length) retained.add(topic);
      if (!topic.endsWith('/state') || !payload.length) return;
      const m = JSON.parse(payload.toString()) as { address: string; collector: string | null };
      const set = publishers.get(m.address) ?? new Set<string>();
      set.add(String(m.collector));
      publishers.set(m.address, set);
    });
    await sub.subscribeAsync(`${RUN}/#`, { qos: 1 });
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    // Leave nothing retained on the shared broker.
    for (const t of retained) await sub.publishAsync(t, '', { qos: 1, retain: true });
    await sub.endAsync();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every rig on exactly one shard, totals add up, a stopped shard goes stale then offline', async () => {
    const config = join(dir, 'rigtel.json');
    writeFileSync(
      config,
      JSON.stringify({
        site: { name: SITE },
        storage: { dir: join(dir, 'api'), journal_fsync: 'off' },
        api: { listen: '127.0.0.1:0' },
        poll: {
          interval_ms: INTERVAL_MS,
          poll_deadline_ms: 1500,
          command_timeout_ms: 1000,
          connect_timeout_ms: 500,
        },
        emulator: { mode: 'off' },
        log: { level: 'warn' },
        rigs: fleet.rigs.map((r) => ({ name: r.name, address: r.address })),
        sinks: { mqtt: { url: BROKER, topic_prefix: RUN } },
      }),
    );
    for (let i = 0; i < 3; i++) {
      procs.push(
        start(['run', '--config', config], {
          RIGTEL_COLLECTOR__SHARD__INDEX: String(i),
          RIGTEL_COLLECTOR__SHARD__COUNT: '3',
          RIGTEL_STORAGE__DIR: join(dir, `shard-${i}`),
        }),
      );
    }
    const api = start(['api', '--config', config], {});
    procs.push(api);
    const base = await waitFor('the standalone API to listen', () => {
      if (api.child.exitCode !== null) throw new Error(`rigtel api exited: ${api.stderr}`);
      return /API\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(api.stdout)?.[1];
    });
    const rigs = async () => ((await (await fetch(`${base}/v1/rigs`)).json()) as { rigs: RigRow[] }).rigs;

    // Every configured rig answered through some shard and reached the API.
    await waitFor('every rig live in the API', async () => {
      const list = await rigs();
      return list.length === RIGS && list.every((r) => r.last_seen_ms !== null && !r.stale)
        ? list
        : undefined;
    });
    // Exactly one shard publishes each rig, and every shard got some (9 rigs over 3 shards).
    await waitFor('a state from every rig', () => publishers.size === RIGS || undefined);
    for (const r of fleet.rigs) {
      const by = publishers.get(r.address);
      assert.equal(by?.size, 1, `${r.address} published by ${[...(by ?? [])].join(', ')}`);
    }
    const owner = new Map([...publishers].map(([a, s]) => [a, [...s][0]!]));
    assert.deepEqual(new Set(owner.values()), new Set(['0', '1', '2']));

    // Fleet totals equal the sum over rigs (read twice around /v1/fleet so a sample arriving in between shows).
    await waitFor('fleet totals that match the rigs', async () => {
      const before = await rigs();
      const f = (await (await fetch(`${base}/v1/fleet`)).json()) as {
        rigs: number;
        hashrate_hs: number | null;
        power_w: number | null;
      };
      const after = await rigs();
      const sum = (list: RigRow[], k: 'hashrate_hs' | 'power_w') => list.reduce((a, r) => a + (r[k] ?? 0), 0);
      if (sum(before, 'hashrate_hs') !== sum(after, 'hashrate_hs')) return undefined;
      assert.equal(f.rigs, RIGS);
      assert.ok(Math.abs((f.hashrate_hs ?? 0) - sum(after, 'hashrate_hs')) < 1, 'hashrate total');
      assert.ok(Math.abs((f.power_w ?? 0) - sum(after, 'power_w')) < 0.5, 'power total');
      return true;
    });

    // Stop shard 1: exactly its rigs go stale, then offline; the others stay fresh.
    const mine = new Set([...owner].filter(([, c]) => c === '1').map(([a]) => a));
    assert.ok(mine.size > 0);
    procs[1]!.child.kill('SIGTERM');
    assert.equal(await procs[1]!.exited, 0, procs[1]!.stderr);
    const staleAt = Date.now();
    await waitFor('shard 1 rigs stale', async () => {
      const list = await rigs();
      return list.every((r) => r.stale === mine.has(r.address)) || undefined;
    });
    // Stale at once: the shard announced offline on its collector topic when it stopped.
    assert.ok(Date.now() - staleAt < 3 * INTERVAL_MS, 'stale before the no-state bound');
    const list = await waitFor('shard 1 rigs offline', async () => {
      const l = await rigs();
      return l.filter((r) => mine.has(r.address)).every((r) => r.state === 'offline') ? l : undefined;
    });
    for (const r of list) {
      if (mine.has(r.address)) {
        assert.equal(r.last_error?.code, 'RT_ERR_BROKER_COLLECTOR_GONE');
        assert.equal(r.hashrate_hs, null);
      } else {
        assert.equal(r.stale, false, `${r.address} is another shard's and still fresh`);
        assert.notEqual(r.last_error?.code, 'RT_ERR_BROKER_COLLECTOR_GONE');
      }
    }
    const history = await fetch(`${base}/v1/rigs/${encodeURIComponent(list[0]!.rig_id)}/history`);
    assert.equal(history.status, 501);
    assert.equal(
      ((await history.json()) as { error: { code: string } }).error.code,
      'RT_ERR_API_HISTORY_UNAVAILABLE',
    );

    api.child.kill('SIGTERM');
    assert.equal(await api.exited, 0, api.stderr);
  });
});
