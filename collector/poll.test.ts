import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MinerDriver } from '../protocols/driver.js';
import { ProtoErrors } from '../protocols/errors.js';
import { emptyReading, type MinerReading } from '../protocols/sample.js';
import { pollRig, type RigTarget } from './poll.js';
import type { PowerMeter } from './power.js';

const rig: RigTarget = {
  name: 'r1',
  address: '127.0.0.1:4028',
  target: {
    host: '127.0.0.1',
    port: 4028,
    family: 'antminer',
    connectTimeoutMs: 100,
    commandTimeoutMs: 100,
    maxReplyBytes: 1024,
  },
};

function answers(patch: Partial<MinerReading>): MinerDriver {
  return {
    family: 'antminer',
    poll: async () => {
      const r = { ...emptyReading('antminer'), state: 'mining' as const, hashrate_hs: 9e13, ...patch };
      return r;
    },
  };
}
const base = { deadlineMs: 1000, now: () => 42_000, site: 'site-a' };
const meter: PowerMeter = {
  reading: () => ({ watts: 3300, energy_wh: 500, at_ms: 41_000, meter: 'pdu o1' }),
};

describe('pollRig', () => {
  it('applies power precedence pdu > miner > estimate and says which it used', async () => {
    const pdu = await pollRig(rig, answers({ power_w: 3100, power_source: 'miner' }), { ...base, meter });
    assert.equal(pdu.power_w, 3300);
    assert.equal(pdu.power_source, 'pdu');
    assert.equal(pdu.power_miner_w, 3100);
    assert.equal(pdu.energy_wh, 500);
    assert.equal(pdu.at_ms, 42_000);
    assert.equal(pdu.site, 'site-a');
    assert.equal(pdu.rig_id, 'r1');

    const miner = await pollRig(rig, answers({ power_w: 3100, power_source: 'miner' }), {
      ...base,
      estimatePowerW: () => 2900,
    });
    assert.equal(miner.power_w, 3100);
    assert.equal(miner.power_source, 'miner');
    assert.equal(miner.power_miner_w, 3100);

    const est = await pollRig(rig, answers({ power_w: null }), { ...base, estimatePowerW: () => 2900 });
    assert.equal(est.power_w, 2900);
    assert.equal(est.power_source, 'estimate');
    assert.equal(est.power_miner_w, null);

    const none = await pollRig(rig, answers({ power_w: null }), base);
    assert.equal(none.power_w, null);
    assert.equal(none.power_source, null);
  });

  it('turns every failure into an offline sample with a named code', async () => {
    const refused = await pollRig(
      rig,
      {
        family: 'antminer',
        poll: async () => {
          throw ProtoErrors.connectRefused(rig.address);
        },
      },
      { ...base, meter },
    );
    assert.equal(refused.poll.ok, false);
    assert.equal(refused.state, 'offline');
    assert.equal(refused.poll.error_code, 'RT_ERR_PROTO_CONNECT_REFUSED');
    assert.equal(refused.power_w, null, 'an offline sample has no figures, not even metered ones');
    assert.equal(refused.hashrate_hs, null);

    const crash = await pollRig(
      rig,
      {
        family: 'antminer',
        poll: async () => {
          throw new TypeError('boom');
        },
      },
      base,
    );
    assert.equal(crash.poll.error_code, 'RT_ERR_SCHED_DRIVER_FAILED');
    assert.match(crash.poll.error_message ?? '', /boom/);

    const shutdown = new AbortController();
    const pending = pollRig(
      rig,
      { family: 'antminer', poll: () => new Promise<MinerReading>(() => {}) },
      { ...base, signal: shutdown.signal },
    );
    shutdown.abort();
    const aborted = await pending;
    assert.equal(aborted.poll.error_code, 'RT_ERR_PROTO_ABORTED');
  });
});
