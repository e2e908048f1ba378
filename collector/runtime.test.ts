import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import type { MinerDriver } from '../protocols/driver.js';
import { ProtoErrors } from '../protocols/errors.js';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { silentLogger } from './journal.js';
import type { PowerMeter } from './power.js';
import { startCollector, targetsFromConfig } from './runtime.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What each port "is": a MAC-revealing miner, a dead one, one without MAC. */
function driverFor(macs: Record<number, string | null | 'dead'>): () => MinerDriver {
  return () => ({
    family: 'antminer',
    poll: async (t) => {
      const mac = macs[t.port];
      if (mac === 'dead' || mac === undefined) throw ProtoErrors.connectRefused(`${t.host}:${t.port}`);
      const r = emptyReading('antminer');
      r.state = 'mining';
      r.hashrate_hs = 95e12;
      r.power_w = 3250;
      r.power_source = 'miner';
      r.identity.mac = mac;
      return r;
    },
  });
}

function config(dir: string, rigs: { name?: string; address: string }[]) {
  return validateConfig({
    storage: { dir, journal_fsync: 'off' },
    poll: { interval_ms: 30_000, poll_deadline_ms: 5000 },
    rigs,
  });
}

describe('collector runtime', () => {
  it('polls, journals, updates the fleet, delivers to the embedded store, and keeps ids across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigtel-runtime-'));
    dirs.push(dir);
    const cfg = config(dir, [
      { name: 'a1', address: '127.0.0.1:40001' },
      { address: '127.0.0.1:40002' },
      { address: '127.0.0.1' },
    ]);
    const targets = targetsFromConfig(cfg);
    assert.deepEqual(
      targets.map((t) => t.address),
      ['127.0.0.1:40001', '127.0.0.1:40002', '127.0.0.1:4028'],
    );
    const meter: PowerMeter = {
      reading: (k) =>
        k.name === 'a1' ? { watts: 3400, energy_wh: 12_000, at_ms: Date.now(), meter: 'pdu-1 o7' } : null,
    };
    let rt = await startCollector(cfg, targets, {
      log: silentLogger,
      driverFor: driverFor({ 40001: 'AA-BB-CC-00-00-01', 40002: 'dead', 4028: null }),
      meter,
      autoStart: false,
    });
    const heard: Sample[] = [];
    const off = rt.onSample((s) => heard.push(s));
    const round = await rt.sweepNow();
    assert.equal(round.polled, 3);
    assert.equal(round.answered, 2);
    assert.equal(heard.length, 3);
    assert.equal(rt.journal.lastSeq(), 3);

    // A MAC seen on the first poll is the id, even for a named rig; the name still finds it.
    const a1 = rt.fleet.get('a1')!;
    assert.equal(a1.rig_id, 'aa:bb:cc:00:00:01');
    assert.equal(a1.current?.power_w, 3400);
    assert.equal(a1.current?.power_source, 'pdu');
    assert.equal(a1.current?.power_miner_w, 3250);
    assert.equal(a1.current?.energy_wh, 12_000);
    const dead = rt.fleet.get('127.0.0.1:40002')!;
    assert.equal(dead.current, null);
    assert.equal(dead.state, 'offline');
    assert.equal(dead.consecutive_failures, 1);
    assert.equal(dead.last_error?.code, 'RT_ERR_PROTO_CONNECT_REFUSED');
    const noMac = rt.fleet.get('127.0.0.1:4028')!;
    assert.equal(noMac.current?.power_source, 'miner');
    assert.equal(rt.health.polling().rigs, 3);
    assert.equal(rt.health.polling().up, 2);

    assert.equal(await rt.fanout.flush(5000), true);
    assert.deepEqual(rt.history.rigIds().sort(), ['127.0.0.1:40002', '127.0.0.1:4028', 'aa:bb:cc:00:00:01']);
    const sinks = rt.health.sinks();
    assert.equal(sinks[0]!.name, 'embedded');
    assert.equal(sinks[0]!.lag_samples, 0);
    off();
    await rt.stop();

    // Restart: the dead rig comes up revealing its MAC — it keeps the id it had (host:port) — and the named rig
    // moved to a new address (DHCP): found by its MAC, it keeps its id.
    const cfg2 = config(dir, [
      { name: 'a1', address: '127.0.0.1:40011' },
      { address: '127.0.0.1:40002' },
      { address: '127.0.0.1:40003' },
    ]);
    rt = await startCollector(cfg2, targetsFromConfig(cfg2), {
      log: silentLogger,
      driverFor: driverFor({
        40011: 'aa:bb:cc:00:00:01',
        40002: 'aa:bb:cc:00:00:02',
        40003: 'aa:bb:cc:00:00:03',
      }),
      autoStart: false,
    });
    await rt.sweepNow();
    assert.equal(rt.fleet.get('127.0.0.1:40011')!.rig_id, 'aa:bb:cc:00:00:01');
    assert.equal(rt.fleet.get('127.0.0.1:40002')!.rig_id, '127.0.0.1:40002');
    assert.equal(
      rt.fleet.get('127.0.0.1:40003')!.rig_id,
      'aa:bb:cc:00:00:03',
      'a new asset with a MAC is its MAC',
    );
    assert.equal(rt.fleet.get('aa:bb:cc:00:00:03')!.address, '127.0.0.1:40003');
    assert.equal(rt.journal.lastSeq(), 6, 'seqs continue across restarts');
    await rt.stop();
  });
});
