import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AlertsConfig, alertsSection } from '../config/sections/alerts.js';
import type { Sample } from '../protocols/sample.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { AlertEngine, type AlertEvent } from './alerts.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const S = 1000;

function cfg(over: Record<string, unknown> = {}): AlertsConfig {
  return alertsSection.parse({ min_duration_s: 60, clear_duration_s: 60, ...over });
}

/** Feed samples 30 s apart; return every event with its step index. */
function run(engine: AlertEngine, samples: Sample[]): { i: number; e: AlertEvent }[] {
  const out: { i: number; e: AlertEvent }[] = [];
  samples.forEach((s, i) => {
    for (const e of engine.observe(s)) out.push({ i, e });
  });
  return out;
}

const at = (i: number) => T0 + i * 30 * S;

describe('AlertEngine', () => {
  test('offline: raised only after min duration, cleared after the clear duration', () => {
    const engine = new AlertEngine(cfg());
    const seq = [
      makeSample('r1', at(0)),
      offlineSample('r1', at(1)),
      offlineSample('r1', at(2)),
      offlineSample('r1', at(3)), // 60 s after the first failure → raised
      makeSample('r1', at(4)),
      makeSample('r1', at(5)),
      makeSample('r1', at(6)), // up for 60 s → cleared
    ];
    const events = run(engine, seq);
    assert.deepEqual(
      events.map(({ i, e }) => [i, e.type, e.alert.kind]),
      [
        [3, 'raised', 'rig_offline'],
        [6, 'cleared', 'rig_offline'],
      ],
    );
    assert.equal(events[0]!.e.alert.since_ms, at(1));
    assert.equal(events[0]!.e.alert.severity, 'critical');
    assert.match(events[0]!.e.alert.message, /RT_ERR_PROTO_CONNECT_TIMEOUT/);
    assert.deepEqual(engine.active(), []);
  });

  test('a flapping rig raises once and is not cleared while it keeps flapping', () => {
    const engine = new AlertEngine(cfg());
    const seq: Sample[] = [];
    for (let i = 0; i < 20; i++) seq.push(i % 2 === 0 ? offlineSample('r1', at(i)) : makeSample('r1', at(i)));
    const events = run(engine, seq);
    // Never 60 s offline in a row: no alert at all.
    assert.equal(events.length, 0);

    const engine2 = new AlertEngine(cfg());
    const seq2 = [0, 1, 2, 3].map((i) => offlineSample('r2', at(i)));
    for (let i = 4; i < 20; i++)
      seq2.push(i % 2 === 0 ? makeSample('r2', at(i)) : offlineSample('r2', at(i)));
    const ev2 = run(engine2, seq2);
    assert.deepEqual(
      ev2.map(({ e }) => e.type),
      ['raised'],
      'raised once; flapping never stays up 60 s so it does not clear',
    );
    assert.equal(engine2.active().length, 1);
  });

  test('min duration 0 raises on the first bad sample; a replayed sample is ignored', () => {
    const engine = new AlertEngine(cfg({ min_duration_s: 0, clear_duration_s: 0 }));
    const off = offlineSample('r1', at(1));
    assert.equal(engine.observe(off).length, 1);
    assert.equal(engine.observe(off).length, 0, 'same sample again (journal replay)');
    assert.equal(engine.observe(offlineSample('r1', at(0))).length, 0, 'older sample');
    assert.deepEqual(
      engine.observe(makeSample('r1', at(2))).map((e) => e.type),
      ['cleared'],
    );
  });

  test('temperature: hysteresis keeps the alert until below limit − hysteresis', () => {
    const engine = new AlertEngine(cfg({ min_duration_s: 0, clear_duration_s: 0 }));
    const chip = (i: number, c: number) => makeSample('r1', at(i), { temp_chip_max_c: c, boards: [] });
    const events = run(engine, [
      chip(0, 90),
      chip(1, 96),
      chip(2, 93),
      chip(3, 94.9),
      chip(4, 89.5),
      chip(5, 96),
    ]).filter(({ e }) => e.alert.kind === 'temperature_high');
    assert.deepEqual(
      events.map(({ i, e }) => [i, e.type, e.alert.value]),
      [
        [1, 'raised', 96],
        [4, 'cleared', 94.9],
        [5, 'raised', 96],
      ],
    );
  });

  test('hashrate below a share of nameplate, with hysteresis; sleeping is not a fault', () => {
    const engine = new AlertEngine(cfg({ min_duration_s: 0, clear_duration_s: 0 }));
    const hr = (i: number, ths: number, state: Sample['state'] = 'mining') =>
      makeSample('r1', at(i), { hashrate_hs: ths * 1e12, hashrate_nominal_hs: 100e12, state });
    const events = run(engine, [hr(0, 95), hr(1, 70), hr(2, 82), hr(3, 86), hr(4, 50), hr(5, 0, 'sleeping')]);
    assert.deepEqual(
      events.map(({ i, e }) => [i, e.type]),
      [
        [1, 'raised'],
        [3, 'cleared'], // 82 % is above 80 % but below 85 %: still raised
        [4, 'raised'],
        [5, 'cleared'],
      ],
    );
    assert.equal(events[0]!.e.alert.threshold, 80e12);
  });

  test('hashrate uses the models table when the miner gives no nameplate', () => {
    const engine = new AlertEngine(
      cfg({ min_duration_s: 0, models: { 'Antminer S19 Pro': { nameplate_ths: 110, fans: 4, boards: 3 } } }),
    );
    const ev = engine.observe(makeSample('r1', at(0), { hashrate_hs: 50e12, hashrate_nominal_hs: null }));
    assert.deepEqual(
      ev.map((e) => e.alert.kind),
      ['hashrate_low'],
    );
  });

  test('fan failed: fewer spinning fans than the model has, or one stopped while mining', () => {
    const engine = new AlertEngine(
      cfg({ min_duration_s: 0, clear_duration_s: 0, models: { 'Antminer S19 Pro': { fans: 4 } } }),
    );
    const fans = (i: number, rpms: (number | null)[], state: Sample['state'] = 'mining') =>
      makeSample('r1', at(i), {
        state,
        fans: rpms.map((rpm, index) => ({ index, rpm })),
        // Asleep for real: no hashing, a control board's few watts.
        ...(state === 'sleeping' ? { hashrate_hs: 0, power_w: 40, boards: [] } : {}),
      });
    const events = run(engine, [
      fans(0, [5000, 5000, 5000, 5000]),
      fans(1, [5000, 5000, 5000]), // one fan gone from the list
      fans(2, [5000, 5000, 5000, 5000]),
      fans(3, [5000, 0, 5000, 5000]), // one at 0 rpm
      fans(4, [0, 0, 0, 0], 'sleeping'), // asleep: fans may stop
    ]);
    assert.deepEqual(
      events.map(({ i, e }) => [i, e.type, e.alert.kind]),
      [
        [1, 'raised', 'fan_failed'],
        [2, 'cleared', 'fan_failed'],
        [3, 'raised', 'fan_failed'],
        [4, 'cleared', 'fan_failed'],
      ],
    );
  });

  test('board missing: against the models table, else against the most boards the rig showed', () => {
    // An unknown model: the baseline is what the rig itself showed.
    const engine = new AlertEngine(cfg({ min_duration_s: 0, clear_duration_s: 0 }), { models: () => null });
    const full = makeSample('r1', at(0));
    const two = makeSample('r1', at(1), { boards: full.boards.slice(0, 2) });
    const ev = run(engine, [full, two, makeSample('r1', at(2))]);
    assert.deepEqual(
      ev.map(({ i, e }) => [i, e.type, e.alert.kind, e.alert.value, e.alert.threshold]),
      [
        [1, 'raised', 'board_missing', 2, 3],
        [2, 'cleared', 'board_missing', 2, 3],
      ],
    );
    // The model table knows an S19 Pro has 3 boards and 4 fans.
    const table = new AlertEngine(cfg({ min_duration_s: 0 }));
    const s19 = makeSample('r3', at(0));
    assert.deepEqual(
      table
        .observe({ ...s19, boards: s19.boards.slice(0, 2), fans: s19.fans.slice(0, 3) })
        .map((e) => e.alert.kind),
      ['fan_failed', 'board_missing'],
    );
    const declared = new AlertEngine(
      cfg({ min_duration_s: 0, models: { 'Antminer S19 Pro': { boards: 4 } } }),
    );
    assert.deepEqual(
      declared.observe(makeSample('r2', at(0))).map((e) => e.alert.kind),
      ['board_missing'],
    );
  });

  test('power source changed is a one-off event once the new source lasts the min duration', () => {
    const engine = new AlertEngine(cfg({ power_source_changed: { startup_grace_s: 0 } }));
    const ps = (i: number, power_source: Sample['power_source']) => makeSample('r1', at(i), { power_source });
    const events = run(engine, [
      ps(0, 'pdu'),
      ps(1, 'estimate'), // one stale PDU reading: no event
      ps(2, 'pdu'),
      ps(3, 'estimate'),
      ps(4, 'estimate'),
      ps(5, 'estimate'), // 60 s on estimate → event
      ps(6, 'estimate'),
    ]);
    assert.deepEqual(
      events.map(({ i, e }) => [i, e.type, e.alert.message]),
      [[5, 'event', 'r1 power now comes from estimate (was pdu)']],
    );
    assert.deepEqual(engine.active(), [], 'events are not active alerts');
  });

  test('rules can be switched off; the defaults parse', () => {
    const engine = new AlertEngine(cfg({ min_duration_s: 0, offline: { enabled: false } }));
    assert.deepEqual(engine.observe(offlineSample('r1', at(0))), []);
    const defaults = alertsSection.parse(undefined);
    assert.equal(defaults.min_duration_s, 120);
    assert.equal(defaults.temperature.hysteresis_c, 5);
    assert.throws(() => alertsSection.parse({ hashrate_low: { below_share: 2 } }));
    assert.throws(() => alertsSection.parse({ typo: true }));
  });

  test('no power-source warning while the rig settles at start-up (the PDU poll lands late)', () => {
    const engine = new AlertEngine(
      cfg({ min_duration_s: 0, power_source_changed: { startup_grace_s: 120 } }),
    );
    const ps = (i: number, power_source: Sample['power_source']) => makeSample('r1', at(i), { power_source });
    // 30 s apart: estimate first, the PDU from 60 s on (within the grace), then a real loss of the PDU.
    const events = run(engine, [
      ps(0, 'estimate'),
      ps(1, 'estimate'),
      ps(2, 'pdu'),
      ps(3, 'pdu'),
      ps(5, 'estimate'),
    ]);
    assert.deepEqual(
      events.map(({ i, e }) => [i, e.alert.kind, e.alert.message]),
      [[4, 'power_source_changed', 'r1 power now comes from estimate (was pdu)']],
    );
  });

  test('no board_missing or hashrate_low while sleeping or curtailed on purpose', () => {
    const engine = new AlertEngine(cfg({ min_duration_s: 0, clear_duration_s: 0 }));
    const asleep = makeSample('r1', at(1), {
      state: 'sleeping',
      boards: [],
      hashrate_hs: 0,
      power_w: 40,
      fans: [],
    });
    // Curtailed: one board powered down on purpose, the rest hashing at 40 % of nameplate, fans turning.
    const curtailed = makeSample('r1', at(2), { state: 'curtailed', hashrate_hs: 44e12 });
    curtailed.boards = curtailed.boards.slice(0, 2);
    const events = run(engine, [makeSample('r1', at(0)), asleep, curtailed]);
    assert.deepEqual(events, []);
    // The same rig awake with boards gone does raise.
    const awake = engine.observe(makeSample('r1', at(3), { boards: [], hashrate_hs: 0 }));
    assert.deepEqual(awake.map((e) => e.alert.kind).sort(), ['board_missing', 'hashrate_low']);
  });

  test('sleeping yet hashing is a contradiction, and its stopped fan is a fan failure', () => {
    const engine = new AlertEngine(cfg({ min_duration_s: 0, clear_duration_s: 0 }));
    const liar = makeSample('r1', at(0), {
      state: 'sleeping',
      hashrate_hs: 78e12,
      fans: [0, 1, 2, 3].map((index) => ({ index, rpm: index === 0 ? 0 : 5000 })),
    });
    const ev = engine.observe(liar);
    assert.deepEqual(ev.map((e) => e.alert.kind).sort(), ['fan_failed', 'state_contradiction']);
    const contradiction = ev.find((e) => e.alert.kind === 'state_contradiction')!;
    assert.equal(contradiction.alert.severity, 'warning');
    assert.match(contradiction.alert.message, /sleeping yet hashes 78\.0 TH\/s/);
    // Asleep for real (nothing hashing, a few watts): both clear.
    const quiet = engine.observe(
      makeSample('r1', at(1), {
        state: 'sleeping',
        hashrate_hs: 0,
        power_w: 40,
        boards: [],
        fans: liar.fans,
      }),
    );
    assert.deepEqual(quiet.map((e) => [e.type, e.alert.kind]).sort(), [
      ['cleared', 'fan_failed'],
      ['cleared', 'state_contradiction'],
    ]);
  });

  test('alerts carry the configured name and location, and messages use the name', () => {
    const engine = new AlertEngine(cfg({ min_duration_s: 0 }), {
      describe: (s) =>
        s.address === '10.0.0.11:4028'
          ? { name: 'c1-r01-s19pro', location: { site: 'tx-1', row: 'A', rack: 'r01', slot: 3 } }
          : { name: null, location: null },
    });
    const ev = engine.observe({ ...offlineSample('aa:bb:cc:dd:ee:ff', at(0)), address: '10.0.0.11:4028' });
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.alert.name, 'c1-r01-s19pro');
    assert.deepEqual(ev[0]!.alert.location, { site: 'tx-1', row: 'A', rack: 'r01', slot: 3 });
    assert.match(ev[0]!.alert.message, /^c1-r01-s19pro does not answer/);
    assert.equal(engine.active()[0]!.name, 'c1-r01-s19pro');
  });

  test('the same rig id at two sites has two states, and forgetting one leaves the other', () => {
    const engine = new AlertEngine(cfg());
    for (let i = 1; i <= 3; i++) {
      engine.observe(offlineSample('r1', at(i), 'east'));
      engine.observe(offlineSample('r1', at(i), 'west'));
    }
    assert.deepEqual(
      engine
        .active()
        .map((a) => a.id)
        .sort(),
      ['east/r1/rig_offline', 'west/r1/rig_offline'],
    );
    engine.forget('east', 'r1');
    assert.deepEqual(
      engine.active().map((a) => a.id),
      ['west/r1/rig_offline'],
    );
    // Forgotten, east's r1 starts afresh: an older sample is no longer "out of order" for it.
    assert.equal(engine.observe(offlineSample('r1', at(0), 'east')).length, 0);
    assert.equal(engine.observe(offlineSample('r1', at(3), 'west')).length, 0);
    assert.deepEqual(
      engine.active().map((a) => a.id),
      ['west/r1/rig_offline'],
    );
  });
});
