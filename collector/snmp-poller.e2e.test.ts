/**
 * End to end: a real miner poll (Whatsminer driver against an emulated M30S on loopback) through the
 * collector's pollRig, with the SNMP poller's PowerMeter reading the emulated APC PDU. The sample must carry the
 * metered watts with source pdu and keep the miner's own claim in power_miner_w.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import { type EmulatedRig, startEmulatedRig } from '../protocols/emulator/server.js';
import { type EmulatedPdu, startEmulatedPdu } from '../protocols/snmp/emulator.js';
import { createWhatsminerDriver } from '../protocols/whatsminer/driver.js';
import { pollRig } from './poll.js';
import { startSnmpPoller } from './snmp-poller.js';

let pdu: EmulatedPdu;
let miner: EmulatedRig;

before(async () => {
  pdu = await startEmulatedPdu({ outlets: 8, community: 'demo', tick_ms: 60_000 });
  miner = await startEmulatedRig({ personality: 'whatsminer-m30s', port: 0 });
});
after(async () => {
  await miner?.close();
  await pdu?.close();
});

describe('metered power in the sample', () => {
  it('pdu > miner: the sample shows source pdu and keeps the miner claim beside it', async () => {
    const config = validateConfig({
      rigs: [{ name: 'm30s-1', address: miner.address, family: 'whatsminer' }],
      snmp: {
        devices: [{ name: 'pdu-emu', address: `127.0.0.1:${pdu.port}`, community: 'demo' }],
        map: [{ rig: 'm30s-1', device: 'pdu-emu', outlet: 3 }],
      },
    });
    const snmp = startSnmpPoller(config);
    try {
      await snmp.pollNow();
      const target = {
        host: '127.0.0.1',
        port: miner.port,
        family: 'whatsminer' as const,
        connectTimeoutMs: 2000,
        commandTimeoutMs: 4000,
        maxReplyBytes: 1 << 20,
      };
      const driver = createWhatsminerDriver({ v3Port: 9 });
      const base = { name: 'm30s-1', address: miner.address, target };
      const withMeter = await pollRig(base, driver, {
        deadlineMs: 10_000,
        now: Date.now,
        site: 'test',
        meter: snmp.meter,
      });
      assert.equal(withMeter.poll.ok, true, withMeter.poll.error_message ?? '');
      assert.equal(withMeter.power_source, 'pdu');
      assert.equal(withMeter.power_w, pdu.watts(3));
      assert.equal(withMeter.energy_wh, (10_000 + 3 * 37) * 100);

      const without = await pollRig(base, driver, { deadlineMs: 10_000, now: Date.now, site: 'test' });
      // The M30S reports its own PSU power: the metered sample keeps that claim next to the meter.
      assert.equal(without.power_source, 'miner');
      assert.equal(typeof without.power_w, 'number');
      assert.equal(typeof withMeter.power_miner_w, 'number');
      assert.notEqual(withMeter.power_miner_w, withMeter.power_w);
    } finally {
      await snmp.stop();
    }
  });
});
