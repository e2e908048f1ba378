/**
 * The SNMP poller against the emulated APC PDU (net-snmp's agent on loopback): mapping, freshness, deadlines,
 * status and shutdown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import { type EmulatedPdu, startEmulatedPdu } from '../protocols/snmp/emulator.js';
import { startSnmpPoller } from './snmp-poller.js';

let pdu: EmulatedPdu;

before(async () => {
  pdu = await startEmulatedPdu({
    outlets: 24,
    community: 'demo',
    tick_ms: 60_000,
    v3: { user: 'emu', auth_key: 'emu-auth-pass', priv_key: 'emu-priv-pass' },
  });
});
after(async () => {
  await pdu?.close();
});

const rig = (name: string) => ({ rig_id: name, name, address: '10.9.0.1:4028' });

describe('snmp poller', () => {
  it('serves fresh mapped readings and null once they are older than two intervals', async () => {
    let clock = 1_000_000;
    const config = validateConfig({
      snmp: {
        devices: [{ name: 'emu', address: `127.0.0.1:${pdu.port}`, community: 'demo', interval_ms: 10_000 }],
        map: [{ rig: 'rig-04', device: 'emu', outlet: 4 }],
      },
    });
    const poller = startSnmpPoller(config, { now: () => clock });
    try {
      await poller.pollNow();
      const r = poller.meter.reading(rig('rig-04'))!;
      assert.equal(r.watts, pdu.watts(4));
      assert.equal(r.at_ms, 1_000_000);
      assert.equal(r.meter, 'emu outlet 4 (rig-04)');
      // tenths of kWh from the emulator (10000 + 4×37) → Wh
      assert.equal(r.energy_wh, (10_000 + 4 * 37) * 100);
      clock += 20_000;
      assert.ok(poller.meter.reading(rig('rig-04')), 'exactly two intervals old is still fresh');
      clock += 1;
      assert.equal(poller.meter.reading(rig('rig-04')), null, 'stale');
      await poller.pollNow();
      assert.ok(poller.meter.reading(rig('rig-04')));
      const s = poller.status()[0]!;
      assert.equal(s.state, 'ok');
      assert.equal(s.channels, 24);
      assert.equal(s.polls, 2);
    } finally {
      await poller.stop();
    }
  });

  it('polls over v3 authPriv too', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          {
            name: 'emu3',
            address: `127.0.0.1:${pdu.port}`,
            version: 'v3',
            v3: { user: 'emu', auth_key: 'emu-auth-pass', priv_key: 'emu-priv-pass' },
          },
        ],
        map: [{ rig: 'rig-09', device: 'emu3', outlet: 'rig-09' }],
      },
    });
    const poller = startSnmpPoller(config);
    try {
      await poller.pollNow();
      assert.equal(poller.meter.reading(rig('rig-09'))?.watts, pdu.watts(9));
    } finally {
      await poller.stop();
    }
  });

  it('a device that is missing does not disturb the others; its status names the error', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          { name: 'emu', address: `127.0.0.1:${pdu.port}`, community: 'demo' },
          { name: 'gone', address: '127.0.0.1:9', community: 'demo', timeout_ms: 100, retries: 0 },
          { name: 'slow', address: '127.0.0.1:9', community: 'demo', timeout_ms: 5000, deadline_ms: 150 },
        ],
        map: [
          { rig: 'rig-01', device: 'emu', outlet: 1 },
          { rig: 'rig-02', device: 'gone', outlet: 2 },
        ],
      },
    });
    const poller = startSnmpPoller(config);
    try {
      await poller.pollNow();
      const byName = Object.fromEntries(poller.status().map((s) => [s.name, s]));
      assert.equal(byName.emu!.state, 'ok');
      assert.equal(byName.gone!.error_code, 'RT_ERR_SNMP_NO_RESPONSE');
      assert.equal(byName.slow!.error_code, 'RT_ERR_SNMP_DEADLINE');
      assert.ok(poller.meter.reading(rig('rig-01')));
      assert.equal(poller.meter.reading(rig('rig-02')), null);
    } finally {
      await poller.stop();
    }
  });

  it('stop() ends an in-flight poll promptly and closes sockets', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          { name: 'hang', address: '127.0.0.1:9', community: 'x', timeout_ms: 30_000, interval_ms: 60_000 },
        ],
      },
    });
    const poller = startSnmpPoller(config);
    const polling = poller.pollNow();
    await new Promise((r) => setTimeout(r, 50));
    await poller.stop();
    await polling;
    assert.equal(poller.status()[0]!.error_code, 'RT_ERR_SNMP_ABORTED');
  });
});

describe('scheduling', () => {
  it('polls on its own interval, and never more devices at once than snmp.concurrency', async () => {
    const config = validateConfig({
      snmp: {
        concurrency: 2,
        devices: Array.from({ length: 6 }, (_, i) => ({
          name: `emu-${i}`,
          address: `127.0.0.1:${pdu.port}`,
          community: 'demo',
          interval_ms: 1000,
        })),
      },
    });
    const poller = startSnmpPoller(config);
    try {
      // Wait (bounded) for the timer to have polled every device twice: no pollNow here.
      for (let i = 0; i < 200 && poller.status().some((s) => s.polls < 2); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(poller.status().every((s) => s.polls >= 2 && s.state === 'ok'));
      assert.ok(poller.stats().peak_in_flight <= 2);
      assert.ok(poller.stats().peak_in_flight >= 1);
    } finally {
      await poller.stop();
    }
  });

  it('talks to an agent on IPv6 loopback', async () => {
    const pdu6 = await startEmulatedPdu({ host: '::1', outlets: 2, community: 'six', tick_ms: 60_000 });
    const poller = startSnmpPoller(
      validateConfig({
        snmp: {
          devices: [{ name: 'v6', address: `[::1]:${pdu6.port}`, community: 'six' }],
          map: [{ rig: 'rig-v6', device: 'v6', outlet: 2 }],
        },
      }),
    );
    try {
      await poller.pollNow();
      assert.equal(poller.meter.reading(rig('rig-v6'))?.watts, pdu6.watts(2));
    } finally {
      await poller.stop();
      await pdu6.close();
    }
  });
});

describe('demo wiring', () => {
  it('demoSnmpSection maps emulated outlets to rigs by address', async () => {
    const { demoSnmpSection } = await import('../config/demo.js');
    const section = demoSnmpSection({ port: pdu.port, community: 'demo' }, [
      { address: '127.0.0.1:14028' },
      { address: '127.0.0.1:14029' },
    ]);
    const poller = startSnmpPoller(section);
    try {
      await poller.pollNow();
      const r = poller.meter.reading({ rig_id: 'x', name: null, address: '127.0.0.1:14029' });
      assert.equal(r?.watts, pdu.watts(2));
    } finally {
      await poller.stop();
    }
  });
});
