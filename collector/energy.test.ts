import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { counterDelta, type EnergyState, integrateWatts, stepEnergy } from './energy.js';

const H = 3_600_000;

function run(
  obs: Array<[number, number | null, number | null]>,
  opts: Parameters<typeof stepEnergy>[2],
): { state: EnergyState; events: string[]; deltas: Array<number | null> } {
  let state: EnergyState | null = null;
  const events: string[] = [];
  const deltas: Array<number | null> = [];
  for (const [at_ms, watts, counter_wh] of obs) {
    const step = stepEnergy(state, { at_ms, watts, counter_wh }, opts);
    state = step.state;
    events.push(step.event);
    deltas.push(step.delta_wh);
  }
  return { state: state!, events, deltas };
}

describe('energy accounting', () => {
  it('uses counter deltas when the PDU counts energy', () => {
    const r = run(
      [
        [0, 3000, 100_000],
        [H, 3000, 103_000],
        [2 * H, 3100, 106_100],
      ],
      { max_gap_ms: 2 * H },
    );
    assert.deepEqual(r.events, ['start', 'counter', 'counter']);
    assert.equal(r.state.total_wh, 6100);
    assert.equal(r.state.covered_ms, 2 * H);
  });

  it('tells a Counter32 wrap from a reset', () => {
    const wrap = 2 ** 32;
    const r = run(
      [
        [0, 3000, wrap - 1000],
        [H, 3000, 2000],
      ],
      { max_gap_ms: 2 * H, wrap_wh: wrap },
    );
    assert.deepEqual(r.events, ['start', 'wrap']);
    assert.equal(r.state.total_wh, 3000);
  });

  it('treats a drop without a plausible wrap as a reset and integrates watts for that interval', () => {
    // APC energy is user resettable: 5000 → 10 is a reset, not 4.29 GWh in an hour.
    const r = run(
      [
        [0, 3000, 5000],
        [H, 3200, 10],
        [2 * H, 3200, 3210],
      ],
      { max_gap_ms: 2 * H, wrap_wh: 2 ** 32 },
    );
    assert.deepEqual(r.events, ['start', 'reset', 'counter']);
    assert.equal(r.deltas[1], 3100);
    assert.equal(r.state.total_wh, 3100 + 3200);
  });

  it('after an agent restart a counter drop is a reset even when a wrap would fit', () => {
    const wrap = 2 ** 32;
    const first = stepEnergy(
      null,
      { at_ms: 0, watts: 3000, counter_wh: wrap - 1000 },
      { max_gap_ms: 2 * H, wrap_wh: wrap },
    );
    const next = stepEnergy(
      first.state,
      { at_ms: H, watts: 3000, counter_wh: 2000, agent_restarted: true },
      { max_gap_ms: 2 * H, wrap_wh: wrap },
    );
    assert.equal(next.event, 'reset');
    assert.equal(next.delta_wh, 3000, 'integrated from watts instead');
  });

  it('rejects an absurd counter jump as a reset', () => {
    const r = run(
      [
        [0, 3000, 0],
        [60_000, null, 9_000_000],
      ],
      { max_gap_ms: H, max_power_w: 10_000 },
    );
    assert.deepEqual(r.events, ['start', 'reset']);
    assert.equal(r.deltas[1], null, 'no watts to integrate: a gap');
    assert.equal(r.state.total_wh, 0);
  });

  it('integrates watts when there is no counter', () => {
    const r = run(
      [
        [0, 3000, null],
        [30_000, 3000, null],
        [60_000, 3600, null],
      ],
      { max_gap_ms: 90_000 },
    );
    assert.deepEqual(r.events, ['start', 'integrated', 'integrated']);
    assert.equal(r.state.total_wh, 25 + 27.5);
  });

  it('keeps gaps as gaps: a missing reading or a long pause adds nothing', () => {
    const r = run(
      [
        [0, 3000, null],
        [30_000, null, null],
        [60_000, 3000, null],
        [90_000, 3000, null],
        [900_000, 3000, null],
        [930_000, 3000, null],
      ],
      { max_gap_ms: 90_000 },
    );
    assert.deepEqual(r.events, ['start', 'gap', 'gap', 'integrated', 'gap', 'integrated']);
    assert.equal(r.state.total_wh, 50);
    assert.equal(r.state.covered_ms, 60_000);
  });

  it('ignores out-of-order readings', () => {
    const r = run(
      [
        [10_000, 3000, null],
        [5_000, 3000, null],
      ],
      { max_gap_ms: 90_000 },
    );
    assert.deepEqual(r.events, ['start', 'stale']);
  });

  it('counterDelta', () => {
    assert.deepEqual(counterDelta(10, 15), { delta: 5, wrapped: false });
    assert.deepEqual(counterDelta(250, 5, { wrap: 256 }), { delta: 11, wrapped: true });
    assert.equal(counterDelta(250, 5), null);
    assert.equal(counterDelta(10, 500, { ceiling: 100 }), null);
  });

  it('integrateWatts reports coverage and merged gaps', () => {
    const r = integrateWatts(
      [
        { at_ms: 0, watts: 1000 },
        { at_ms: H / 2, watts: 1000 },
        { at_ms: H, watts: null },
        { at_ms: 1.5 * H, watts: 1000 },
        { at_ms: 2 * H, watts: 3000 },
      ],
      H,
    );
    assert.equal(r.wh, 500 + 1000);
    assert.equal(r.covered_ms, H);
    assert.deepEqual(r.gaps, [{ from_ms: H / 2, to_ms: 1.5 * H }]);
  });
});
