// Per-rig /metrics text is cached per rig: a rig's lines change after its next sample, everything else stays
// byte-identical, and only the changed rig is rendered again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fleet } from '../collector/fleet.js';
import { validateConfig } from '../config/load.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { buildApp } from './app.js';
import { RigMetrics } from './rig-metrics.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const A = '10.0.0.11:4028';
const B = '10.0.0.12:4028';

function setup() {
  const config = validateConfig({
    site: { name: 'tx-1' },
    rigs: [
      { name: 'rig-a', address: A, location: { row: 'A', rack: 'r01', slot: 1 } },
      { name: 'rig-b', address: B },
    ],
  });
  const fleet = new Fleet([
    { name: 'rig-a', address: A, target: {} as never },
    { name: 'rig-b', address: B, target: {} as never },
  ]);
  fleet.update(makeSample('aa:bb:cc:00:00:01', T0, { address: A }));
  fleet.update(makeSample('aa:bb:cc:00:00:02', T0, { address: B }));
  return { config, fleet };
}

/** The lines of one rig, by its configured name (series) or id (age). */
const linesOf = (body: string, name: string, id: string) =>
  body.split('\n').filter((l) => l.includes(`name="${name}"`) || l.includes(`rig_id="${id}"`));

test("a rig's series change after its next sample and stay byte-identical otherwise", async () => {
  const { config, fleet } = setup();
  let now = T0 + 5000;
  const app = buildApp({
    fleet,
    history: { history: () => [], rigIds: () => [] },
    health: {
      started_ms: T0,
      sinks: () => [],
      polling: () => ({ rigs: 2, up: 2, last_sweep_ms: T0, last_sweep_duration_ms: 900 }),
    },
    config,
    now: () => now,
  });
  try {
    const scrape = async () => {
      const res = await app.inject('/metrics');
      assert.equal(res.statusCode, 200);
      // Event-loop delay moves between scrapes; the rest is what the fleet says.
      return res.body
        .split('\n')
        .filter((l) => !l.startsWith('rigtel_event_loop_delay_seconds'))
        .join('\n');
    };
    const first = await scrape();
    assert.equal(await scrape(), first, 'nothing changed: the same bytes');

    fleet.update(makeSample('aa:bb:cc:00:00:01', T0 + 15_000, { address: A, hashrate_hs: 95e12 }));
    now = T0 + 15_000;
    const second = await scrape();
    const a1 = linesOf(first, 'rig-a', 'aa:bb:cc:00:00:01');
    const a2 = linesOf(second, 'rig-a', 'aa:bb:cc:00:00:01');
    assert.notDeepEqual(a2, a1);
    assert.ok(
      a2.some((l) => /^rigtel_rig_hashrate_hashes_per_second\{.*name="rig-a".*\} 95000000000000$/.test(l)),
    );
    assert.ok(a2.includes('rigtel_rig_age_seconds{rig_id="aa:bb:cc:00:00:01"} 0'));
    // rig-b had no sample: only its age moved with the clock.
    const b1 = linesOf(first, 'rig-b', 'aa:bb:cc:00:00:02');
    const b2 = linesOf(second, 'rig-b', 'aa:bb:cc:00:00:02');
    const age = (l: string) => l.startsWith('rigtel_rig_age_seconds');
    assert.deepEqual(
      b2.filter((l) => !age(l)),
      b1.filter((l) => !age(l)),
    );
    assert.deepEqual(b2.filter(age), ['rigtel_rig_age_seconds{rig_id="aa:bb:cc:00:00:02"} 15']);

    // A failed poll: rig-b is offline, its up and state lines say so and its figures leave.
    fleet.update({ ...offlineSample('aa:bb:cc:00:00:02', T0 + 16_000), address: B });
    const third = await scrape();
    const b3 = linesOf(third, 'rig-b', 'aa:bb:cc:00:00:02');
    assert.ok(b3.some((l) => /^rigtel_rig_up\{.*name="rig-b".*\} 0$/.test(l)));
    assert.ok(b3.some((l) => /^rigtel_rig_state\{.*name="rig-b".*state="offline"\} 1$/.test(l)));
    assert.ok(!b3.some((l) => l.startsWith('rigtel_rig_hashrate_hashes_per_second')));
    assert.deepEqual(linesOf(third, 'rig-a', 'aa:bb:cc:00:00:01'), a2);
  } finally {
    await app.close();
  }
});

test('only rigs whose sample, state, id or name changed are rendered again; gone rigs are forgotten', async () => {
  const { config, fleet } = setup();
  const metrics = new RigMetrics(config);
  const first = await metrics.text(fleet.list(), T0 + 5000);
  assert.equal(metrics.rebuilt, 2);
  const again = await metrics.text(fleet.list(), T0 + 5000);
  assert.equal(metrics.rebuilt, 0);
  assert.deepEqual(again, first);
  fleet.update(makeSample('aa:bb:cc:00:00:02', T0 + 15_000, { address: B }));
  await metrics.text(fleet.list(), T0 + 15_000);
  assert.equal(metrics.rebuilt, 1);
  // A fleet without rig-a: its lines are gone, and it is rendered anew if it comes back.
  const onlyB = fleet.list().filter((r) => r.address === B);
  const text = await metrics.text(onlyB, T0 + 15_000);
  assert.ok(!Buffer.concat(text.series).toString().includes('rig-a'));
  await metrics.text(fleet.list(), T0 + 15_000);
  assert.equal(metrics.rebuilt, 1);
});
