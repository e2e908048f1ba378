import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyBoard, emptyReading, type Sample } from '../protocols/sample.js';
import { compactReadings, shareStrings } from './live-memory.js';
import { toSample } from './poll.js';

/** A sample as it arrives from a poll worker: a structured clone of the reading, with its own strings. */
function clonedSample(model: string): Sample {
  const r = emptyReading('antminer');
  r.state = 'mining';
  r.identity.make = 'Bitmain';
  r.identity.model = model;
  r.boards = [0, 1, 2].map((i) => ({
    ...emptyBoard(i),
    hashrate_hs: 4.5e13 + i,
    temp_chip_c: 76.5,
    chips: 126,
  }));
  r.pools = [0, 1].map((i) => ({
    index: i,
    url: `stratum+tcp://pool-${i}.example:3333`,
    user: 'farm.worker',
    status: 'Alive',
    active: i === 0,
    accepted: 1200 + i,
    rejected: 3,
    stale: null,
  }));
  r.fans = [0, 1, 2, 3].map((i) => ({ index: i, rpm: 5400 + i }));
  r.notes = ['nominal hashrate from the model table'];
  return toSample(structuredClone(r), {
    rigId: 'r1',
    site: 's',
    address: '10.0.0.1:4028',
    atMs: 1,
    ok: true,
    durationMs: 3,
    error: null,
  });
}

describe('live memory', () => {
  it('copies boards, pools and fans into objects that read and serialize the same', () => {
    const s = clonedSample('Antminer S19');
    const before = JSON.stringify(s);
    const expected = structuredClone(s);
    const boards = [...s.boards];
    compactReadings(s);
    assert.equal(JSON.stringify(s), before);
    assert.deepEqual(s, expected);
    assert.notEqual(s.boards[0], boards[0]);
  });

  it('keeps as they are the parts with keys of their own or in another order', () => {
    const s = clonedSample('Antminer S19');
    const extra = { ...s.boards[0]!, serial: 'B0-123' };
    const { index, rpm } = s.fans[0]!;
    const reordered = { rpm, index };
    s.boards[0] = extra;
    s.fans[0] = reordered;
    const before = JSON.stringify(s);
    compactReadings(s);
    assert.equal(s.boards[0], extra);
    assert.equal(s.fans[0], reordered);
    assert.equal(JSON.stringify(s), before);
  });

  it('shares strings without changing a value, with or without a previous sample', () => {
    const prev = clonedSample('Antminer S19');
    const next = clonedSample('Antminer S19j Pro');
    next.notes.push('a second note');
    const expected = structuredClone(next);
    shareStrings(prev, null);
    shareStrings(next, prev);
    assert.deepEqual(next, expected);
  });
});
