// GET /metrics over a real journal and a sink that is down: the operator can alert on what threatens data.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Journal } from '../collector/journal.js';
import type { FleetView, HealthView, HistoryStore, RigStatus } from '../collector/views.js';
import { validateConfig } from '../config/load.js';
import { emptyReading, type Sample } from '../protocols/sample.js';
import { buildApp } from './app.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');

function sample(rigId: string, ths: number, w: number | null): Sample {
  const r = emptyReading('antminer');
  return {
    ...r,
    state: 'mining',
    hashrate_hs: ths * 1e12,
    power_w: w,
    power_source: w === null ? null : 'pdu',
    v: 1,
    rig_id: rigId,
    site: 's',
    address: `${rigId}:4028`,
    at_ms: T0,
    power_miner_w: null,
    energy_wh: null,
    poll: { ok: true, duration_ms: 10, error_code: null, error_message: null },
  };
}

function status(s: Sample | null, id: string): RigStatus {
  return {
    rig_id: id,
    name: id,
    address: `${id}:4028`,
    state: s ? s.state : 'offline',
    current: s,
    last_seen_ms: T0,
    last_poll_ms: T0,
    last_error: s ? null : { code: 'RT_ERR_PROTO_TIMEOUT', message: 'timeout' },
    consecutive_failures: s ? 0 : 3,
    next_poll_ms: null,
  };
}

test('metrics expose rigs by state, fleet figures, sink lag and journal use; missing figures are left out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-metrics-'));
  const journal = Journal.open(dir, { fsync: 'off', maxBytes: 1024 * 1024 });
  try {
    journal.register('influx');
    journal.append([sample('a', 100, 3000), sample('b', 50, null)]);
    const rigs = [status(sample('a', 100, 3000), 'a'), status(sample('b', 50, null), 'b'), status(null, 'c')];
    const fleet: FleetView = { list: () => rigs, get: (id) => rigs.find((r) => r.rig_id === id) };
    const history: HistoryStore = { history: () => [], rigIds: () => [] };
    const health: HealthView & { journal: () => ReturnType<Journal['pressure']> } = {
      started_ms: T0,
      sinks: () => [
        {
          name: 'influx',
          state: 'retrying',
          lag_samples: journal.lastSeq() - journal.acked('influx'),
          acked_seq: journal.acked('influx'),
          last_ok_ms: null,
          last_error: { code: 'RT_ERR_SINK_INFLUX_UNAVAILABLE', message: 'down', at_ms: T0 },
        },
      ],
      polling: () => ({ rigs: 3, up: 2, last_sweep_ms: T0, last_sweep_duration_ms: null }),
      journal: () => journal.pressure(),
    };
    const app = buildApp({ fleet, history, health, config: validateConfig({}) });
    try {
      const res = await app.inject('/metrics');
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
      const lines = new Set(res.body.split('\n'));
      assert.ok(lines.has('rigtel_rigs{state="mining"} 2'));
      assert.ok(lines.has('rigtel_rigs{state="offline"} 1'));
      assert.ok(lines.has('rigtel_fleet_hashrate_hashes_per_second 150000000000000'));
      assert.ok(lines.has('rigtel_fleet_power_watts{source="pdu"} 3000'));
      assert.ok(lines.has('rigtel_sink_up{sink="influx"} 0'));
      assert.ok(lines.has('rigtel_sink_lag_samples{sink="influx"} 2'));
      assert.ok(lines.has('rigtel_journal_will_drop 0'));
      assert.ok(lines.has('rigtel_journal_dropped_entries_total 0'));
      assert.ok([...lines].some((l) => /^rigtel_journal_used_bytes \d+$/.test(l) && !l.endsWith(' 0')));
      // The sweep duration is unknown: no sample line, only its HELP/TYPE.
      assert.ok(![...lines].some((l) => l.startsWith('rigtel_last_sweep_duration_seconds ')));
    } finally {
      await app.close();
    }
  } finally {
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
