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

  it("keeps a partial reading's raw reply and gives it back whole to get() and JSON", () => {
    const f = new Fleet([target]);
    // Replies repeat themselves (key names, status blocks): what a partial reading keeps, ~4 KB.
    const raw = JSON.stringify({
      stats: Array.from({ length: 40 }, (_, i) => ({ chain: i, temp: 60 + (i % 7), rate: 13.5 + i / 100 })),
      note: 'réponse partielle ✓',
    });
    const partial = { ...sample(1000, true), support: 'partial' as const, raw };
    f.update(structuredClone(partial));
    assert.equal(f.get('r1')!.current!.raw, raw);
    // The same sample is the same object from one get() to the next (readers tell a new sample by identity).
    assert.equal(f.get('r1')!.current, f.get('r1')!.current);
    // A list of every rig leaves raw replies out.
    assert.equal(f.list()[0]!.current!.raw, null);
    assert.equal(f.list()[0]!.current!.support, 'partial');
    assert.equal(JSON.parse(JSON.stringify(f.get('r1'))).current.raw, raw);
    assert.equal(f.get('r1')!.current!.support, 'partial');
    // Held deflated in a buffer of its own: not a view of a larger one (zlib's 16 KB output chunk) kept alive.
    const held = (f as unknown as { byAddress: Map<string, { raw: Buffer }> }).byAddress.get(
      target.address,
    )!.raw;
    assert.ok(held.length < raw.length / 2, `${held.length} B held for ${raw.length} B`);
    assert.equal(held.buffer.byteLength, held.length);
    // The next reading was full: no raw reply any more.
    f.update(sample(2000, true));
    assert.equal(f.get('r1')!.current!.raw, null);
    assert.equal(JSON.parse(JSON.stringify(f.get('r1'))).current.raw, null);
    // A failed poll drops it with the current values.
    f.update(structuredClone({ ...partial, at_ms: 3000 }));
    f.update(sample(4000, false));
    assert.equal(f.get('r1')!.current, null);
  });

  it('shows each sample as it came, strings shared with the previous sample or not', () => {
    const f = new Fleet([target]);
    const first = sample(1000, true);
    first.identity.model = 'Antminer S19 Pro';
    first.identity.firmware = 'fw 1';
    first.notes = ['a note', 'another'];
    first.pools = [
      {
        index: 0,
        url: 'stratum+tcp://a:3333',
        user: 'w.1',
        status: 'Alive',
        active: true,
        accepted: 1,
        rejected: 0,
        stale: 0,
      },
    ];
    f.update(structuredClone(first));
    const next = structuredClone({ ...first, at_ms: 2000 });
    next.identity.firmware = 'fw 2';
    next.notes = ['a note', 'a new one', 'and a third'];
    next.pools[0]!.url = 'stratum+tcp://b:3333';
    f.update(next);
    const cur = f.get('r1')!.current!;
    assert.equal(cur.identity.model, 'Antminer S19 Pro');
    assert.equal(cur.identity.firmware, 'fw 2');
    assert.deepEqual(cur.notes, ['a note', 'a new one', 'and a third']);
    assert.equal(cur.pools[0]!.url, 'stratum+tcp://b:3333');
    assert.equal(cur.pools[0]!.user, 'w.1');
    assert.equal(cur.state, 'mining');
  });
});
