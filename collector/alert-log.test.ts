import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertsSection } from '../config/sections/alerts.js';
import { makeSample, offlineSample } from '../testing/sample-factory.js';
import { AlertLog } from './alert-log.js';
import { AlertEngine } from './alerts.js';
import type { Logger } from './journal.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

test('2,000 rigs going offline and back: at most the budget of change lines plus one digest per period', () => {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const record =
    (level: string) =>
    (obj: object, msg = '') =>
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const log: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const engine = new AlertEngine(alertsSection.parse({ min_duration_s: 60, clear_duration_s: 60 }));
  const alertLog = new AlertLog(log, { maxLinesPerPeriod: 20, active: () => engine.active() });
  const rigs = Array.from({ length: 2000 }, (_, i) => `r${i}`);
  // Ten polls 30 s apart: up, then offline for long enough to raise the alert on every rig.
  let events = 0;
  for (let k = 0; k < 10; k++) {
    for (const rig of rigs) {
      const s = k === 0 ? makeSample(rig, T0) : offlineSample(rig, T0 + k * 30_000);
      for (const e of engine.observe(s)) {
        events += 1;
        alertLog.event(e);
      }
    }
  }
  assert.equal(events, 2000, 'every rig raised its offline alert once');
  assert.equal(lines.length, 20, 'the first 20 changes are logged one by one');
  alertLog.digest();
  assert.equal(lines.length, 21);
  const digest = lines[20]!;
  assert.equal(digest.level, 'warn');
  assert.deepEqual(digest.obj.changes, { 'rig_offline:raised': 2000 });
  assert.equal(digest.obj.lines_held_back, 1980);
  assert.equal(digest.obj.active, 2000);
  assert.match(digest.msg, /2000 changes in the last 60 s \(1980 not logged one by one\), 2000 active/);
  // A new period has its own budget; a quiet period with nothing active logs nothing.
  for (const rig of rigs.slice(0, 5)) {
    for (let k = 0; k < 4; k++)
      for (const e of engine.observe(makeSample(rig, T0 + (11 + k) * 30_000))) alertLog.event(e);
  }
  assert.equal(lines.length, 26, 'five clears, one line each');
  assert.equal(lines[25]!.level, 'info');
});
