// Per-rig /metrics text is rendered from the live fleet at each scrape: a rig's lines change after its next sample,
// everything else stays byte-identical; only label sets are kept per rig, and a large fleet goes out in chunks.
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
        .filter((l) => !l.startsWith('rigtel_event_loop_delay_'))
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

test('label sets are built once per rig and again only when its id, name or model changes; gone rigs are forgotten', async () => {
  const { config, fleet } = setup();
  const metrics = new RigMetrics(config);
  const first = await metrics.text(fleet.list(), T0 + 5000);
  assert.equal(metrics.relabelled, 2);
  assert.equal(await metrics.text(fleet.list(), T0 + 5000), first);
  assert.equal(metrics.relabelled, 0);
  // A new sample: new figures, same labels.
  fleet.update(makeSample('aa:bb:cc:00:00:02', T0 + 15_000, { address: B, temp_chip_max_c: 91.5 }));
  const second = await metrics.text(fleet.list(), T0 + 15_000);
  assert.equal(metrics.relabelled, 0);
  assert.match(second, /^rigtel_rig_chip_temperature_celsius\{rig="aa:bb:cc:00:00:02",.*\} 91\.5$/m);
  // Another model: the rig's labels are built again.
  const sample = makeSample('aa:bb:cc:00:00:02', T0 + 30_000, { address: B });
  fleet.update({ ...sample, identity: { ...sample.identity, model: 'Antminer S21' } });
  assert.match(await metrics.text(fleet.list(), T0 + 30_000), /name="rig-b",.*model="Antminer S21"\} /);
  assert.equal(metrics.relabelled, 1);
  // A fleet without rig-a: its lines are gone, and its labels are built anew if it comes back.
  const onlyB = fleet.list().filter((r) => r.address === B);
  assert.ok(!(await metrics.text(onlyB, T0 + 30_000)).includes('rig-a'));
  await metrics.text(fleet.list(), T0 + 30_000);
  assert.equal(metrics.relabelled, 1);
});

test('a large fleet is sent in bounded chunks, made as they are read, every family whole and in order', async () => {
  const count = 3000;
  const address = (i: number) => `10.0.${i >> 8}.${i & 255}:4028`;
  const config = validateConfig({ site: { name: 'tx-1' }, rigs: [] });
  const fleet = new Fleet([]);
  for (let i = 0; i < count; i++)
    fleet.update(makeSample(`rig-${i}`, T0, { address: address(i), hashrate_hs: (100 + i) * 1e12 }));
  const metrics = new RigMetrics(config);
  const rigs = fleet.list();
  const { series, ages } = metrics.render(rigs, T0 + 2000);
  const chunks: Buffer[] = [];
  for await (const c of series) chunks.push(c);
  assert.ok(chunks.length > 10, `${chunks.length} chunks`);
  // A chunk ends at a line's end and holds ~64 KB of text (one rig's lines past it at most).
  for (const c of chunks) {
    assert.ok(c.length < 70 * 1024, `chunk of ${c.length} B`);
    assert.equal(c[c.length - 1], 0x0a);
  }
  const text = Buffer.concat(chunks).toString();
  const lines = text.split('\n').filter(Boolean);
  const names = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
  assert.deepEqual(names, [
    'rigtel_rig_up',
    'rigtel_rig_state',
    'rigtel_rig_hashrate_hashes_per_second',
    'rigtel_rig_power_watts',
    'rigtel_rig_chip_temperature_celsius',
    'rigtel_rig_board_temperature_celsius',
    'rigtel_rig_fan_speed_rpm',
    'rigtel_rig_energy_joules_total',
  ]);
  const hashrate = lines.filter((l) => l.startsWith('rigtel_rig_hashrate_hashes_per_second{'));
  assert.equal(hashrate.length, count);
  assert.ok(
    hashrate.includes(
      `rigtel_rig_hashrate_hashes_per_second{rig="rig-2999",name="rig-2999",site="tx-1",row="",rack="",model="Antminer S19 Pro"} ${3099e12}`,
    ),
  );
  assert.equal(lines.filter((l) => l.startsWith('rigtel_rig_state{')).length, count * 6);
  const ageText: Buffer[] = [];
  for await (const c of ages) ageText.push(c);
  const ageLines = Buffer.concat(ageText)
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('rigtel_rig_age_seconds{'));
  assert.equal(ageLines.length, count);
  assert.equal(ageLines[0], 'rigtel_rig_age_seconds{rig_id="rig-0"} 2');
});
