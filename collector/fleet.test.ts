import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtoErrors } from '../protocols/errors.js';
import { emptyReading } from '../protocols/sample.js';
import { Fleet } from './fleet.js';
import { type RigTarget, toSample } from './poll.js';

const target: RigTarget = {
  name: 'r1',
  address: '127.0.0.1:4028',
  target: {
    host: '127.0.0.1',
    port: 4028,
    family: 'auto',
    connectTimeoutMs: 100,
    commandTimeoutMs: 100,
    maxReplyBytes: 1024,
  },
};

function sample(at: number, ok: boolean) {
  const r = emptyReading('antminer');
  r.state = 'mining';
  r.hashrate_hs = 1e14;
  return toSample(r, {
    rigId: 'aa:bb:cc:dd:ee:ff',
    site: 's',
    address: target.address,
    atMs: at,
    ok,
    durationMs: 3,
    error: ok ? null : ProtoErrors.timeout(target.address, 100),
  });
}

describe('fleet', () => {
  it('shows current values only while a rig is up, and counts failures', () => {
    const f = new Fleet([target], { nextPoll: () => 12345 });
    assert.equal(f.get('r1')!.current, null);
    assert.equal(f.get('r1')!.next_poll_ms, 12345);
    f.update(sample(1000, true));
    const up = f.get('aa:bb:cc:dd:ee:ff')!;
    assert.equal(up.current?.hashrate_hs, 1e14);
    assert.equal(up.last_seen_ms, 1000);
    assert.equal(f.upCount(), 1);
    f.update(sample(2000, false));
    f.update(sample(3000, false));
    const down = f.get('127.0.0.1:4028')!;
    assert.equal(down.current, null, 'an offline rig has no current values');
    assert.equal(down.state, 'offline');
    assert.equal(down.last_seen_ms, 1000);
    assert.equal(down.last_poll_ms, 3000);
    assert.equal(down.consecutive_failures, 2);
    assert.equal(f.upCount(), 0, 'the up count follows a rig going down');
    assert.equal(f.isUp('127.0.0.1:4028'), false);
    assert.equal(down.last_error?.code, 'RT_ERR_PROTO_TIMEOUT');
    f.update(sample(2500, true)); // late, older: ignored
    assert.equal(f.get('r1')!.consecutive_failures, 2);
    f.update(sample(4000, true));
    assert.equal(f.upCount(), 1, 'and coming back');
    f.update(sample(5000, true));
    assert.equal(f.upCount(), 1, 'a second sample of an up rig is not counted twice');
    assert.equal(f.get('r1')!.consecutive_failures, 0);
    assert.equal(f.get('r1')!.last_error, null);
    assert.equal(f.list().length, 1);
  });
});
