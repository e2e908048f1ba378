/**
 * Integration tests against net-snmp's real snmpd (started on a high loopback UDP port with
 * protocols/snmp/testdata/snmpd.conf and its pass_persist helper), over v2c and v3 authPriv.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSnmpPoller } from '../../collector/snmp-poller.js';
import { validateConfig } from '../../config/load.js';
import { Secret } from '../../lib/secret.js';
import { type RunningSnmpd, startSnmpd, TEST_SNMP } from '../../testing/snmpd.js';
import { SnmpClient, type SnmpTarget } from './client.js';
import { pollDevice } from './device.js';
import { PROFILES } from './profiles.js';

let agent: RunningSnmpd;

before(async () => {
  agent = await startSnmpd();
});
after(async () => {
  await agent?.stop();
});

function v2c(overrides: Partial<SnmpTarget> = {}): SnmpTarget {
  return {
    host: '127.0.0.1',
    port: agent.port,
    version: 'v2c',
    community: new Secret(TEST_SNMP.community),
    // Generous: the machine is shared and snmpd asks a node helper for every value.
    timeout_ms: 3000,
    retries: 1,
    max_repetitions: 10,
    ...overrides,
  };
}

function v3(user: string, auth: string, priv: string, auth_protocol: 'sha' | 'sha256' = 'sha'): SnmpTarget {
  return {
    ...v2c(),
    version: 'v3',
    community: undefined,
    v3: {
      user,
      level: 'authPriv',
      auth_protocol,
      auth_key: new Secret(auth),
      priv_protocol: 'aes',
      priv_key: new Secret(priv),
    },
  };
}

async function withClient<T>(target: SnmpTarget, fn: (c: SnmpClient) => Promise<T>): Promise<T> {
  const c = new SnmpClient(target);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    if (text) assert.match(err.message, text);
    return true;
  });
}

describe('SNMP client against real snmpd', () => {
  it('walks the APC outlet table over v2c with GETBULK and decodes it', async () => {
    const mark = agent.servedMark();
    const reading = await withClient(v2c({ max_repetitions: 3 }), (c) =>
      pollDevice(c, PROFILES['apc-rpdu2']!),
    );
    const outlets = reading.channels.filter((ch) => ch.kind === 'outlet');
    assert.equal(outlets.length, 8);
    const o3 = outlets.find((ch) => ch.id === '1.3')!;
    assert.equal(o3.name, 'rig-03');
    assert.ok(o3.aliases.includes('3'));
    assert.ok(agent.servedSince(mark, 3).includes(o3.values.power_w!));
    assert.ok(o3.values.energy_wh! >= 300_000, 'energy in Wh (tenths of kWh × 100)');
    // The whole-PDU figures come from the config's `override` lines: 2641 hundredths of kW, 123456 tenths of kWh.
    const dev = reading.channels.find((ch) => ch.kind === 'device')!;
    assert.equal(dev.values.power_w, 26_410);
    assert.equal(dev.values.energy_wh, 12_345_600);
    assert.ok(reading.absent.includes('rPDU2PhaseStatusTable'));
  });

  it('works over v3 authPriv with SHA-1 + AES and SHA-256 + AES', async () => {
    for (const [user, proto] of [
      [TEST_SNMP.v3User, 'sha'],
      [TEST_SNMP.v3UserSha256, 'sha256'],
    ] as const) {
      const res = await withClient(v3(user, TEST_SNMP.authKey, TEST_SNMP.privKey, proto), async (c) => {
        const sys = await c.get(['1.3.6.1.2.1.1.5.0']);
        const cols = await c.walkColumns([`${TEST_SNMP.apcOutletEntry}.7`]);
        return { sys, cols };
      });
      assert.equal(res.sys[0]!.value, 'rigtel-test-pdu');
      assert.equal(res.cols.get(`${TEST_SNMP.apcOutletEntry}.7`)!.size, 8);
    }
  });

  it('a wrong community is a named no-answer error within the timeout, saying what to check', async () => {
    const started = Date.now();
    await rejectsWith(
      withClient(v2c({ community: new Secret('not-the-community'), timeout_ms: 300, retries: 1 }), (c) =>
        c.get(['1.3.6.1.2.1.1.5.0']),
      ),
      'RT_ERR_SNMP_NO_RESPONSE',
      /wrong community\/credentials, or the agent does not allow this host/,
    );
    // Two tries of 300 ms: it must not hang past the configured timeout (generous bound, not a benchmark).
    assert.ok(Date.now() - started < 5000);
  });

  it('v3 failures reported by the agent get distinct codes', async () => {
    await rejectsWith(
      withClient(v3(TEST_SNMP.v3User, 'wrong-auth-pass', TEST_SNMP.privKey), (c) =>
        c.get(['1.3.6.1.2.1.1.5.0']),
      ),
      'RT_ERR_SNMP_V3_WRONG_DIGEST',
    );
    await rejectsWith(
      withClient(v3('no-such-user', TEST_SNMP.authKey, TEST_SNMP.privKey), (c) =>
        c.get(['1.3.6.1.2.1.1.5.0']),
      ),
      'RT_ERR_SNMP_V3_UNKNOWN_USER',
      /no-such-user/,
    );
    await rejectsWith(
      withClient(v3(TEST_SNMP.v3UserNoPriv, TEST_SNMP.authKey, TEST_SNMP.privKey), (c) =>
        c.get(['1.3.6.1.2.1.1.5.0']),
      ),
      'RT_ERR_SNMP_V3_SEC_LEVEL',
    );
  });

  it('a wrong v3 privacy key gets no answer (snmpd drops it): named error, not a hang', async () => {
    await rejectsWith(
      withClient({ ...v3(TEST_SNMP.v3User, TEST_SNMP.authKey, 'wrong-priv-pass'), timeout_ms: 300 }, (c) =>
        c.get(['1.3.6.1.2.1.1.5.0']),
      ),
      'RT_ERR_SNMP_NO_RESPONSE',
    );
  });

  it('an OID the agent lacks is reported per varbind; a profile for another vendor is NO_SUCH_OBJECT', async () => {
    const got = await withClient(v2c(), (c) => c.get(['1.3.6.1.2.1.1.5.0', '1.3.6.1.4.1.318.1.1.99.0']));
    assert.equal(got[0]!.missing, null);
    assert.match(got[1]!.missing!, /nosuch/i);
    await rejectsWith(
      withClient(v2c(), (c) => pollDevice(c, PROFILES.sentry4!)),
      'RT_ERR_SNMP_NO_SUCH_OBJECT',
      /1\.3\.6\.1\.4\.1\.1718\.4\.1\.8\.3\.1\.7 \(st4OutletTable\)/,
    );
  });

  it('vendor profiles decode rows served by a real agent (Raritan, Eaton, UPS-MIB, ENTITY-SENSOR, IF-MIB)', async () => {
    const poll = (name: string) => withClient(v2c(), (c) => pollDevice(c, PROFILES[name]!));
    const raritan = await poll('raritan-pdu2');
    const r1 = raritan.channels.find((c) => c.id === '1.1')!;
    assert.deepEqual(
      [r1.name, r1.values.power_w, r1.values.energy_wh, r1.values.current_a],
      ['rig-r1', 3312, 4_294_967_000, 14.5],
    );
    assert.equal(r1.energy_wrap_wh, 2 ** 32);
    assert.equal(raritan.channels.find((c) => c.id === '1.2')!.values.power_w, 0);

    const eaton = await poll('eaton-epdu');
    assert.deepEqual(
      eaton.channels
        .filter((c) => c.kind === 'outlet')
        .map((c) => [c.id, c.name, c.values.power_w, c.values.energy_wh, c.values.current_a]),
      [
        ['0.1', 'rig-e1', 3266, 987_654_321, 14.2],
        ['0.2', 'rig-e2', null, 0, 0],
      ],
    );
    assert.ok(eaton.absent.includes('inputPowerTable'));

    const ups = await poll('ups-mib');
    assert.deepEqual(ups.channels[0]!.values.power_w, 850);
    assert.deepEqual(ups.channels[0]!.values.current_a, 3.7);

    const sensors = await poll('entity-sensor');
    assert.deepEqual(
      sensors.channels.map((c) => [c.id, c.values.temp_c, c.values.power_w]),
      [
        ['100', 23.5, null],
        ['101', null, 3250],
      ],
    );

    // snmpd serves its own host's IF-MIB: loopback is up.
    const ifs = await poll('if-mib');
    const lo = ifs.channels.find((c) => c.name === 'lo' || c.aliases.includes('lo'))!;
    assert.equal(lo.values.link_up, true);
    assert.equal(lo.kind, 'port');
  });

  it('an agent that does not exist on the port: no answer, named', async () => {
    await rejectsWith(
      withClient(v2c({ port: 9, timeout_ms: 200 }), (c) => c.get(['1.3.6.1.2.1.1.5.0'])),
      'RT_ERR_SNMP_NO_RESPONSE',
    );
  });
});

describe('SNMP poller with snmpd: outlets mapped to rigs', () => {
  it('a rig mapped to an outlet gets source-pdu watts equal to what the agent served (v2c and v3)', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          {
            name: 'pdu-a1',
            address: `127.0.0.1:${agent.port}`,
            community: TEST_SNMP.community,
          },
          {
            name: 'pdu-a1-v3',
            address: `127.0.0.1:${agent.port}`,
            version: 'v3',
            v3: { user: TEST_SNMP.v3User, auth_key: TEST_SNMP.authKey, priv_key: TEST_SNMP.privKey },
          },
        ],
        map: [
          { rig: 'rig-05', device: 'pdu-a1', outlet: 5 },
          { rig: '10.0.0.6:4028', device: 'pdu-a1', outlet: 'rig-06' },
          { rig: 'hydro-1', device: 'pdu-a1-v3', outlet: '1.7' },
          { rig: 'hydro-1', device: 'pdu-a1-v3', outlet: '1.8' },
        ],
      },
    });
    const mark = agent.servedMark();
    const poller = startSnmpPoller(config, {});
    try {
      await poller.pollNow();
      const status = poller.status();
      assert.deepEqual(
        status.map((s) => [s.name, s.state, s.error_code]),
        [
          ['pdu-a1', 'ok', null],
          ['pdu-a1-v3', 'ok', null],
        ],
      );
      const r5 = poller.meter.reading({ rig_id: 'aa:bb', name: 'rig-05', address: '10.0.0.5:4028' })!;
      assert.ok(r5, 'mapped by rig name');
      assert.equal(r5.meter, 'pdu-a1 outlet 5 (rig-05)');
      assert.ok(agent.servedSince(mark, 5).includes(r5.watts), 'a value the agent served in this poll');
      const r6 = poller.meter.reading({ rig_id: 'x', name: null, address: '10.0.0.6:4028' })!;
      assert.ok(r6, 'mapped by address and outlet name');
      const hydro = poller.meter.reading({ rig_id: 'h', name: 'hydro-1', address: '10.0.0.9:4028' })!;
      const outlets = poller.channels('pdu-a1-v3');
      const w7 = outlets.find((c) => c.channel.id === '1.7')!.channel.values.power_w!;
      const w8 = outlets.find((c) => c.channel.id === '1.8')!.channel.values.power_w!;
      assert.equal(hydro.watts, w7 + w8, 'two PSUs on two outlets: their sum');
      assert.ok(agent.servedSince(mark, 7).includes(w7), 'v3 read what the agent served');
      assert.ok(hydro.energy_wh! >= 15_000_000 / 10, 'counter-based energy summed');
      assert.equal(poller.meter.reading({ rig_id: 'z', name: 'unmapped', address: '10.0.0.99:4028' }), null);
    } finally {
      await poller.stop();
    }
  });

  it('watts match the served value exactly when one device reads the outlet', async () => {
    const config = validateConfig({
      snmp: {
        devices: [{ name: 'pdu-b', address: `127.0.0.1:${agent.port}`, community: TEST_SNMP.community }],
        map: [{ rig: 'rig-02', device: 'pdu-b', outlet: 2 }],
      },
    });
    const mark = agent.servedMark();
    const poller = startSnmpPoller(config, {});
    try {
      await poller.pollNow();
      const r = poller.meter.reading({ rig_id: 'r2', name: 'rig-02', address: '10.0.0.2:4028' })!;
      assert.equal(r.meter, 'pdu-b outlet 2 (rig-02)');
      // The helper's value changes on every read, so a match means this very poll's value reached the meter.
      const served = agent.servedSince(mark, 2);
      assert.ok(served.includes(r.watts), `${r.watts} not among served ${served.join(',')}`);
    } finally {
      await poller.stop();
    }
  });

  it('a wrong community shows up on the device status as RT_ERR_SNMP_NO_RESPONSE, and the meter gives null', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          {
            name: 'pdu-bad',
            address: `127.0.0.1:${agent.port}`,
            community: 'wrong',
            timeout_ms: 200,
            retries: 0,
          },
        ],
        map: [{ rig: 'rig-01', device: 'pdu-bad', outlet: 1 }],
      },
    });
    const poller = startSnmpPoller(config, {});
    try {
      await poller.pollNow();
      const [s] = poller.status();
      assert.equal(s!.state, 'error');
      assert.equal(s!.error_code, 'RT_ERR_SNMP_NO_RESPONSE');
      assert.match(s!.error_message!, /wrong community\/credentials/);
      assert.equal(poller.meter.reading({ rig_id: 'r1', name: 'rig-01', address: '10.0.0.1:4028' }), null);
      assert.doesNotMatch(JSON.stringify(poller.status()), /wrong"/, 'no secret in status');
    } finally {
      await poller.stop();
    }
  });

  it('a switch port mapped to a rig gives its link state', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          {
            name: 'sw-1',
            address: `127.0.0.1:${agent.port}`,
            community: TEST_SNMP.community,
            profile: 'if-mib',
          },
        ],
        map: [{ rig: '10.0.0.7:4028', device: 'sw-1', port: 'lo' }],
      },
    });
    const poller = startSnmpPoller(config, {});
    try {
      await poller.pollNow();
      const p = poller.port({ rig_id: 'r7', name: null, address: '10.0.0.7:4028' });
      assert.deepEqual([p?.link_up, p?.port], [true, 'sw-1 port lo']);
      assert.equal(poller.meter.reading({ rig_id: 'r7', name: null, address: '10.0.0.7:4028' }), null);
      assert.ok((poller.status()[0]!.agent_uptime_s ?? -1) >= 0, 'sysUpTime read each poll');
    } finally {
      await poller.stop();
    }
  });

  it('a generic profile defined only in config reads a vendor table no profile knows', async () => {
    const config = validateConfig({
      snmp: {
        devices: [
          {
            name: 'site-meter',
            address: `127.0.0.1:${agent.port}`,
            community: TEST_SNMP.community,
            profile: 'generic',
            generic: {
              tables: [
                {
                  kind: 'outlet',
                  name_oid: `${TEST_SNMP.siteEntry}.1`,
                  columns: [
                    {
                      oid: `${TEST_SNMP.siteEntry}.2`,
                      measures: 'power',
                      unit: 'W',
                      scale: 0.1,
                      type: 'gauge',
                    },
                    { oid: `${TEST_SNMP.siteEntry}.3`, measures: 'energy', unit: 'Wh', type: 'counter32' },
                    { oid: `${TEST_SNMP.siteEntry}.4`, measures: 'temperature', unit: 'C', scale: 0.1 },
                  ],
                },
              ],
            },
          },
        ],
        map: [{ rig: 'bay-rig-3', device: 'site-meter', outlet: 'bay-3' }],
      },
    });
    const mark = agent.servedMark(agent.siteServedLog);
    const poller = startSnmpPoller(config, {});
    try {
      await poller.pollNow();
      assert.equal(poller.status()[0]!.error_code, null);
      const channels = poller.channels('site-meter');
      assert.equal(channels.length, 4);
      const bay3 = channels.find((c) => c.channel.name === 'bay-3')!;
      assert.equal(bay3.channel.values.temp_c, 21.8);
      assert.equal(bay3.channel.energy_wrap_wh, 2 ** 32);
      const r = poller.meter.reading({ rig_id: 'b3', name: 'bay-rig-3', address: '10.1.0.3:4028' })!;
      assert.ok(
        agent.servedSince(mark, 3, agent.siteServedLog).includes(r.watts),
        'deciwatts ×0.1 = served W',
      );
    } finally {
      await poller.stop();
    }
  });
});
