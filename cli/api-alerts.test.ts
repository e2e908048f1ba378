/**
 * Alerts in a standalone `rigtel api`: two collectors' live states go through the real MQTT sink (collector ids
 * `a` and `b`) to the real Mosquitto on 127.0.0.1:1883 (a prefix of this run's own, nothing left retained), and a
 * `rigtel api` process reads them back. One rig of `a` runs hot, another hashes far below nameplate: /v1/alerts
 * lists exactly those two, with their rule names and severities, and the log has a line for each. Collector `b`
 * stops (its availability goes offline, its states stop): its rigs get rig_offline. The hot rig cools and `b`
 * comes back: their alerts clear, and only the slow rig's stays.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MqttSink } from '../collector/sinks/mqtt.js';
import { mqttSinkSchema } from '../config/sections/sinks.js';
import type { Sample } from '../protocols/sample.js';
import { clearRetained } from '../testing/mqtt-retained.js';
import { makeSample } from '../testing/sample-factory.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'rigtel.js');
const BROKER = 'mqtt://127.0.0.1:1883';
const PREFIX = `rigtel-api-alerts-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const SITE = 'alert-site';
/** The smallest poll interval the config takes: stale after 3 s without state, offline after 10 s. */
const INTERVAL_MS = 1000;

/** Rig id → [collector, address]. */
const RIGS = {
  hot: ['a', '10.1.0.1:4028'],
  slow: ['a', '10.1.0.2:4028'],
  fine: ['a', '10.1.0.3:4028'],
  'b-one': ['b', '10.1.0.4:4028'],
  'b-two': ['b', '10.1.0.5:4028'],
} as const;
type RigId = keyof typeof RIGS;

interface Alert {
  rig_id: string;
  kind: string;
  severity: string;
  message: string;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000) {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    last = await fn();
    if (last !== undefined) return last as T;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('rigtel api serves alerts from the MQTT states', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-api-alerts-'));
  let api: ChildProcess | undefined;
  const sinks: MqttSink[] = [];

  after(async () => {
    if (api && api.exitCode === null) api.kill('SIGKILL');
    for (const s of sinks) await s.close().catch(() => {});
    // Leave nothing retained on the shared broker.
    await clearRetained(BROKER, PREFIX);
    rmSync(dir, { recursive: true, force: true });
  });

  test('hot and slow rigs, a stopped collector, recovery', async () => {
    const cfgFile = join(dir, 'api.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        site: { name: SITE },
        storage: { dir: join(dir, 'api') },
        poll: {
          interval_ms: INTERVAL_MS,
          poll_deadline_ms: 800,
          command_timeout_ms: 500,
          connect_timeout_ms: 300,
        },
        api: { listen: '127.0.0.1:0' },
        log: { level: 'info' },
        alerts: { min_duration_s: 1, clear_duration_s: 1 },
        sinks: { mqtt: { url: BROKER, topic_prefix: PREFIX } },
      }),
    );
    const child = spawn(process.execPath, [bin, 'api', '--config', cfgFile], {
      cwd: root,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api = child;
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = await waitFor('the API to listen', () => {
      if (child.exitCode !== null) throw new Error(`rigtel api exited: ${stderr}`);
      return /API\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1];
    });
    const alerts = async (query = '') => {
      const res = await fetch(`${base}/v1/alerts${query}`);
      assert.equal(res.status, 200);
      return (await res.json()) as { available: boolean; count: number; alerts: Alert[] };
    };
    const listed = async (query = '') =>
      (await alerts(query)).alerts.map((a) => `${a.rig_id} ${a.kind} ${a.severity}`).sort();

    // Two collectors publish through the real MQTT sink, a round of states every half second.
    const cfg = mqttSinkSchema.parse({ url: BROKER, topic_prefix: PREFIX });
    const open = async (id: 'a' | 'b') => {
      const s = new MqttSink(cfg, { site: SITE, collectorId: id, name: `mqtt-${id}` });
      await s.open();
      sinks.push(s);
      return s;
    };
    const live: Record<'a' | 'b', MqttSink | null> = { a: await open('a'), b: await open('b') };
    let hot = true;
    let seq = 1;
    const state = (id: RigId, at: number): Sample => {
      const over: Partial<Sample> =
        id === 'hot' && hot
          ? { temp_chip_max_c: 101 }
          : id === 'slow'
            ? { hashrate_hs: 40e12, hashrate_avg_hs: 41e12 }
            : {};
      return { ...makeSample(id, at, over, SITE), address: RIGS[id][1] };
    };
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const at = Date.now();
        for (const c of ['a', 'b'] as const) {
          const sink = live[c];
          if (!sink) continue;
          const mine = (Object.keys(RIGS) as RigId[]).filter((id) => RIGS[id][0] === c);
          await sink.write(mine.map((id) => ({ seq: seq++, sample: state(id, at) })));
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    try {
      // Exactly the hot rig and the slow one, with their rules and severities (the state message carries no
      // per-board readings: no board_missing for rigs that list none in it).
      await waitFor('the hot and the slow rig alerted', async () =>
        (await listed()).length >= 2 ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 1500));
      const first = await alerts();
      assert.equal(first.available, true);
      assert.deepEqual(await listed(), ['hot temperature_high critical', 'slow hashrate_low warning']);
      assert.match(
        first.alerts.find((a) => a.rig_id === 'hot')!.message,
        /chip temperature 101 °C over 95 °C/,
      );
      assert.deepEqual(await listed('?severity=critical'), ['hot temperature_high critical']);
      assert.deepEqual(await listed('?rig=slow'), ['slow hashrate_low warning']);
      // One log line per change, as in `rigtel run`.
      assert.match(stderr, /alert raised: hot chip temperature 101 °C over 95 °C/);
      assert.match(stderr, /alert raised: slow hashes 40\.0 TH\/s, below 80 % of nameplate 110\.0 TH\/s/);

      // The live stream's snapshot carries them too.
      const events = await fetch(`${base}/v1/events`);
      const reader = events.body!.getReader();
      let text = '';
      while (!text.includes('\n\n', text.indexOf('event: snapshot'))) {
        const { value } = await reader.read();
        text += Buffer.from(value!).toString();
      }
      await reader.cancel();
      const snapshot = JSON.parse(/event: snapshot\ndata: (.*)\n/.exec(text)![1]!) as { alerts: Alert[] };
      assert.deepEqual(snapshot.alerts.map((a) => a.rig_id).sort(), ['hot', 'slow']);

      // Collector b stops: its availability goes offline (clean stop) and its states stop. Past the offline
      // bound its rigs raise rig_offline; collector a's rigs are untouched.
      const b = live.b!;
      live.b = null;
      await b.close();
      const stoppedAt = Date.now();
      await waitFor("collector b's rigs offline", async () =>
        (await listed()).filter((a) => a.includes('rig_offline')).length === 2 ? true : undefined,
      );
      assert.ok(Date.now() - stoppedAt >= 9 * INTERVAL_MS, 'not before the offline bound');
      assert.deepEqual(await listed(), [
        'b-one rig_offline critical',
        'b-two rig_offline critical',
        'hot temperature_high critical',
        'slow hashrate_low warning',
      ]);
      for (const a of (await alerts()).alerts.filter((x) => x.kind === 'rig_offline'))
        assert.match(a.message, /RT_ERR_BROKER_COLLECTOR_GONE/);
      const rigs = (await (await fetch(`${base}/v1/rigs`)).json()) as {
        rigs: { rig_id: string; state: string }[];
      };
      assert.equal(
        rigs.rigs.find((r) => r.rig_id === 'b-one')?.state,
        'offline',
        'the alert agrees with /v1/rigs',
      );
      assert.match(stderr, /alert raised: b-one does not answer \(RT_ERR_BROKER_COLLECTOR_GONE\)/);

      // The hot rig cools and collector b comes back: those alerts clear; the slow rig's stays.
      hot = false;
      live.b = await open('b');
      await waitFor('the recovered rigs cleared', async () =>
        (await listed()).length === 1 ? true : undefined,
      );
      assert.deepEqual(await listed(), ['slow hashrate_low warning']);
      assert.match(stderr, /alert cleared: hot chip temperature/);
      assert.match(stderr, /alert cleared: b-one does not answer/);
    } finally {
      publishing = false;
      await publisher;
    }

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });
});
