import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { alertsSection } from '../../config/sections/alerts.js';
import { mqttSinkSchema } from '../../config/sections/sinks.js';
import { silentLogger } from '../../lib/log.js';
import type { Sample } from '../../protocols/sample.js';
import { freePort } from '../../testing/influxd.js';
import { makeSample, offlineSample } from '../../testing/sample-factory.js';
import { AlertEngine, type AlertEvent } from '../alerts.js';
import { Fanout } from '../fanout.js';
import { Journal } from '../journal.js';
import { MqttSink, topicSegment } from './mqtt.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const SHARED = 'mqtt://127.0.0.1:1883';
/** Unique per run so parallel runs on the shared broker never see each other's messages. */
const RUN = `rigtel-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

interface Got {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A subscriber that records everything under its filters. */
async function subscriber(url: string, filters: string[], opts: mqtt.IClientOptions = {}) {
  const got: Got[] = [];
  const client = mqtt.connect(url, { reconnectPeriod: 200, ...opts });
  client.on('message', (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, got };
}

async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Remove retained messages we left on the shared broker. */
async function clearRetained(client: MqttClient, topics: Iterable<string>): Promise<void> {
  for (const t of topics) await client.publishAsync(t, '', { qos: 1, retain: true });
}

/** A private mosquitto on a high loopback port with persistence, so a restart keeps sessions (never touches 1883). */
async function privateMosquitto(security: (dir: string) => string[] = () => ['allow_anonymous true']) {
  const dir = mkdtempSync(join(tmpdir(), 'rigtel-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      ...security(dir),
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest none',
      // As root, mosquitto drops to user "mosquitto", which cannot write our 0700 temp dir: persistence would
      // silently fail and the restart test would race the subscriber's resubscribe.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | null = null;
  const canConnect = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  const up = async () => {
    proc = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while (!(await canConnect())) {
      if (Date.now() > until) throw new Error('private mosquitto did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const down = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await up();
  return {
    dir,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    up,
    down,
    stop: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('mqtt sink', () => {
  test('topic segments cannot inject levels or wildcards', () => {
    assert.equal(topicSegment('a/b+c#d'), 'a_b_c_d');
    assert.equal(topicSegment(''), '_');
    assert.equal(topicSegment('aa:bb:cc:dd:ee:ff'), 'aa:bb:cc:dd:ee:ff');
  });

  test('state, retained availability, alerts and Home Assistant discovery reach a subscriber', async () => {
    const prefix = `${RUN}-a`;
    const ha = `${RUN}-ha`;
    const site = 'site-test';
    const sub = await subscriber(SHARED, [`${prefix}/#`, `${ha}/#`]);
    const engine = new AlertEngine(alertsSection.parse({ min_duration_s: 0 }));
    const sink = new MqttSink(
      mqttSinkSchema.parse({
        url: SHARED,
        topic_prefix: prefix,
        home_assistant: { enabled: true, prefix: ha },
      }),
      { site, alerts: engine },
    );
    const retainedTopics = new Set<string>();
    try {
      await sink.open();
      const batch = [
        { seq: 1, sample: makeSample('rig/1+#', T0, {}, site) },
        { seq: 2, sample: offlineSample('rig-2', T0, site) },
      ];
      // The collector feeds its one engine as samples arrive; the sink publishes what the engine emits.
      for (const { sample } of batch) engine.observe(sample);
      await sink.write(batch);
      // write() resolved: the broker acked every QoS-1 publish. Now the subscriber has them (or is about to).
      const stateTopic = `${prefix}/${site}/rig_1__/state`;
      await waitFor('state messages', () => sub.got.filter((g) => g.topic.endsWith('/state')).length >= 2);
      const state = JSON.parse(sub.got.find((g) => g.topic === stateTopic)!.payload);
      assert.equal(state.rig_id, 'rig/1+#');
      assert.equal(state.hashrate_hs, 110.2e12);
      assert.equal(state.power_source, 'pdu');
      assert.equal(state.online, true);
      assert.ok(!JSON.stringify(state).includes('worker1'), 'no pool worker names');

      await waitFor('an alert', () => sub.got.some((g) => g.topic === `${prefix}/${site}/alerts`));
      const alert = JSON.parse(
        sub.got.find((g) => g.topic === `${prefix}/${site}/alerts`)!.payload,
      ) as AlertEvent;
      assert.equal(alert.type, 'raised');
      assert.equal(alert.alert.kind, 'rig_offline');
      assert.equal(alert.alert.rig_id, 'rig-2');

      // A subscriber that joins later sees retained availability, the collector's status and discovery configs.
      const late = await subscriber(SHARED, [`${prefix}/#`, `${ha}/#`]);
      try {
        await waitFor('retained messages', () => late.got.filter((g) => g.retain).length >= 3 + 2 + 12);
        const retained = new Map(late.got.filter((g) => g.retain).map((g) => [g.topic, g.payload]));
        for (const t of retained.keys()) retainedTopics.add(t);
        assert.equal(retained.get(`${prefix}/${site}/rig_1__/availability`), 'online');
        assert.equal(retained.get(`${prefix}/${site}/rig-2/availability`), 'offline');
        assert.equal(retained.get(`${prefix}/${site}/collector/availability`), 'online');
        // State is retained too: a late subscriber (a standalone API) gets every rig's last state at once.
        const lateState = JSON.parse(retained.get(stateTopic)!);
        assert.equal(lateState.rig_id, 'rig/1+#');
        assert.equal(lateState.address, makeSample('rig/1+#', T0, {}, site).address);
        assert.equal(lateState.collector, null);
        assert.ok(retained.has(`${prefix}/${site}/rig-2/state`));
        const power = JSON.parse(retained.get(`${ha}/sensor/rigtel_site-test_rig_1___power/config`)!);
        assert.equal(power.device_class, 'power');
        assert.equal(power.unit_of_measurement, 'W');
        assert.equal(power.state_topic, stateTopic);
        assert.equal(power.device.model, 'Antminer S19 Pro');
        const energy = JSON.parse(retained.get(`${ha}/sensor/rigtel_site-test_rig_1___energy/config`)!);
        assert.equal(energy.state_class, 'total_increasing');
      } finally {
        await late.client.endAsync();
      }
    } finally {
      // Whatever happened above, leave nothing retained on the shared broker.
      for (const [t] of sink.discoveryConfigs(makeSample('rig/1+#', T0, {}, site))) retainedTopics.add(t);
      for (const rig of ['rig_1__', 'rig-2'])
        for (const leaf of ['availability', 'state']) retainedTopics.add(`${prefix}/${site}/${rig}/${leaf}`);
      retainedTopics.add(`${prefix}/${site}/collector/availability`);
      await sink.close();
      const collectorStatus = `${prefix}/${site}/collector/availability`;
      await waitFor('clean offline', () =>
        sub.got.some((g) => g.topic === collectorStatus && g.payload === 'offline'),
      );
      await clearRetained(sub.client, retainedTopics);
      await sub.client.endAsync();
    }
  });

  test('a malformed journal entry is skipped with a named error; the rest is delivered', async () => {
    const prefix = `${RUN}-bad`;
    const site = 'site-bad';
    const sub = await subscriber(SHARED, [`${prefix}/+/+/state`]);
    const warned: unknown[] = [];
    const sink = new MqttSink(
      // Nothing retained: this test leaves no state behind on the shared broker.
      mqttSinkSchema.parse({
        url: SHARED,
        topic_prefix: prefix,
        retain_availability: false,
        retain_state: false,
      }),
      {
        site,
        log: { ...silentLogger, warn: (obj) => warned.push(obj) },
      },
    );
    try {
      await sink.open();
      await sink.write([
        { seq: 1, sample: { rig_id: 'x', identity: null } as unknown as Sample },
        { seq: 2, sample: makeSample('ok', T0, {}, site) },
      ]);
      await waitFor('the good state', () => sub.got.length === 1);
      assert.equal(sub.got[0]!.topic, `${prefix}/${site}/ok/state`);
      assert.deepEqual(
        warned.map((w) => (w as { code: string }).code),
        ['RT_ERR_SINK_MQTT_BAD_SAMPLE'],
      );
    } finally {
      await sink.close();
      await clearRetained(sub.client, [`${prefix}/${site}/collector/availability`]);
      await sub.client.endAsync();
    }
  });

  test('config: bad URLs, wildcard prefixes and half-set credentials are refused; the password is a Secret', () => {
    assert.throws(() => mqttSinkSchema.parse({ url: 'http://127.0.0.1:1883' }));
    assert.throws(() => mqttSinkSchema.parse({ topic_prefix: 'rigtel/#' }));
    assert.throws(() => mqttSinkSchema.parse({ topic_prefix: '/rigtel' }));
    assert.throws(() => mqttSinkSchema.parse({ password: 'x' }), /username/);
    assert.throws(() => mqttSinkSchema.parse({ tls: { cert: '/a.pem' } }), /cert and key/);
    assert.throws(() => mqttSinkSchema.parse({ qos: 3 }));
    const c = mqttSinkSchema.parse({ username: 'u', password: 'Zx9-secret' });
    assert.ok(!JSON.stringify(c).includes('Zx9-secret'));
    assert.equal(c.topic_prefix, 'rigtel');
    assert.equal(c.home_assistant.prefix, 'homeassistant');
  });

  test('Home Assistant discovery is re-published when Home Assistant comes back online', async () => {
    const prefix = `${RUN}-harestart`;
    const ha = `${RUN}-ha2`;
    const site = 'site-ha';
    const sub = await subscriber(SHARED, [`${ha}/sensor/+/config`]);
    const sink = new MqttSink(
      mqttSinkSchema.parse({
        url: SHARED,
        topic_prefix: prefix,
        retain_state: false,
        home_assistant: { enabled: true, prefix: ha },
      }),
      { site },
    );
    const configs = () => sub.got.filter((g) => g.topic.endsWith('_power/config') && g.payload).length;
    const cleanup = new Set<string>();
    try {
      await sink.open();
      await sink.write([{ seq: 1, sample: makeSample('r1', T0, {}, site) }]);
      await waitFor('first discovery', () => configs() === 1);
      await sink.write([{ seq: 2, sample: makeSample('r1', T0 + 1000, {}, site) }]);
      // HA's birth message: it lost its state, so the configs must come again with the next batch.
      await sub.client.publishAsync(`${ha}/status`, 'online', { qos: 1 });
      // The birth message reaches the sink asynchronously: keep writing new samples until configs come again.
      for (let seq = 3; configs() < 2; seq++) {
        assert.ok(seq < 500, 'discovery was never re-published');
        await sink.write([{ seq, sample: makeSample('r1', T0 + seq * 1000, {}, site) }]);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(configs(), 2);
    } finally {
      for (const [t] of sink.discoveryConfigs(makeSample('r1', T0, {}, site))) cleanup.add(t);
      await sink.close();
      cleanup.add(`${prefix}/${site}/collector/availability`);
      cleanup.add(`${prefix}/${site}/r1/availability`);
      await clearRetained(sub.client, cleanup);
      await sub.client.endAsync();
    }
  });

  test('disconnected: open and write fail fast with RT_ERR_SINK_MQTT_UNAVAILABLE, nothing queued in memory', async () => {
    const port = await freePort();
    const sink = new MqttSink(
      mqttSinkSchema.parse({ url: `mqtt://127.0.0.1:${port}`, connect_timeout_ms: 300 }),
      {
        site: 's',
      },
    );
    await assert.rejects(sink.write([{ seq: 1, sample: makeSample('r', T0) }]), {
      code: 'RT_ERR_SINK_MQTT_UNAVAILABLE',
    });
    await assert.rejects(sink.open(), { code: 'RT_ERR_SINK_MQTT_UNAVAILABLE' });
    await sink.close();
  });

  test('last will: a SIGKILLed collector shows offline (retained) on its availability topic', async () => {
    const prefix = `${RUN}-will`;
    const site = 'site-will';
    const topic = `${prefix}/${site}/collector/availability`;
    const sub = await subscriber(SHARED, [topic]);
    const fixture = fileURLToPath(new URL('./sinks.child.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'mqtt-will', SHARED, prefix, site], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      await waitFor('online', () => sub.got.some((g) => g.payload === 'online'));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      await waitFor('the last will', () => sub.got.some((g) => g.payload === 'offline'));
      const late = await subscriber(SHARED, [topic]);
      await waitFor('retained offline', () => late.got.some((g) => g.retain && g.payload === 'offline'));
      await late.client.endAsync();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await clearRetained(sub.client, [topic]);
      await sub.client.endAsync();
    }
  });

  describe('broker restart (private mosquitto)', () => {
    let broker: Awaited<ReturnType<typeof privateMosquitto>>;
    const dirs: string[] = [];
    before(async () => {
      broker = await privateMosquitto();
    });
    after(async () => {
      await broker?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test('publishing resumes after the broker restarts and journalled samples are delivered', async () => {
      const prefix = `${RUN}-restart`;
      const site = 'site-r';
      // A persistent session, so the broker keeps queueing for this subscriber across its own restart.
      const sub = await subscriber(broker.url, [`${prefix}/+/+/state`], {
        clientId: `${RUN}-sub`,
        clean: false,
      });
      const dir = mkdtempSync(join(tmpdir(), 'rigtel-mqtt-journal-'));
      dirs.push(dir);
      const journal = Journal.open(dir, { fsync: 'off', maxBytes: 1e9 });
      const sink = new MqttSink(
        mqttSinkSchema.parse({ url: broker.url, topic_prefix: prefix, connect_timeout_ms: 2000 }),
        {
          site,
        },
      );
      const fanout = new Fanout(journal, [sink], { batchSize: 50, retryMinMs: 100, retryMaxMs: 400 });
      fanout.start();
      let n = 0;
      const append = (k: number) => {
        const batch = [];
        for (let i = 0; i < k; i++) batch.push(makeSample(`r${n % 3}`, T0 + n++ * 1000, {}, site));
        journal.append(batch);
        fanout.kick();
      };
      const distinct = () => new Set(sub.got.map((g) => JSON.parse(g.payload).at_ms)).size;
      try {
        append(10);
        assert.equal(await fanout.flush(10_000), true);
        await waitFor('first 10', () => distinct() === 10);

        const ackedBefore = fanout.status()[0]!.acked_seq;
        await broker.down();
        append(20);
        await waitFor('the sink to report the outage', () => fanout.status()[0]!.state === 'retrying');
        assert.equal(fanout.status()[0]!.last_error?.code, 'RT_ERR_SINK_MQTT_UNAVAILABLE');
        assert.equal(
          fanout.status()[0]!.acked_seq,
          ackedBefore,
          'nothing acknowledged while the broker is down',
        );

        await broker.up();
        append(5);
        assert.equal(await fanout.flush(20_000), true, 'the journal drained after the restart');
        await waitFor('all 35 samples', () => distinct() === 35, 20_000);
      } finally {
        await fanout.stop();
        await journal.close();
        await sub.client.endAsync();
      }
    });
  });

  describe('TLS and username/password (private mosquitto)', () => {
    let broker: Awaited<ReturnType<typeof privateMosquitto>>;
    let ca: string;
    before(async () => {
      broker = await privateMosquitto((dir) => {
        // A throwaway CA and a server certificate for 127.0.0.1 (SAN IP), made fresh per run.
        const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
        const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
        ssl(
          'req',
          '-x509',
          ...ec,
          '-keyout',
          'ca.key',
          '-out',
          'ca.crt',
          '-days',
          '1',
          '-subj',
          '/CN=rigtel-test-ca',
        );
        ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
        writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
        ssl(
          'x509',
          '-req',
          '-in',
          'server.csr',
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          'server.crt',
          '-days',
          '1',
          '-extfile',
          'san.ext',
        );
        execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'rigtel', 'pw-Tls-42'], {
          stdio: 'ignore',
        });
        return [
          `cafile ${join(dir, 'ca.crt')}`,
          `certfile ${join(dir, 'server.crt')}`,
          `keyfile ${join(dir, 'server.key')}`,
          'allow_anonymous false',
          `password_file ${join(dir, 'passwd')}`,
        ];
      });
      ca = join(broker.dir, 'ca.crt');
    });
    after(async () => {
      await broker?.stop();
    });

    const tlsUrl = () => `mqtts://127.0.0.1:${broker.port}`;
    const sinkFor = (over: Record<string, unknown>) =>
      new MqttSink(
        mqttSinkSchema.parse({
          url: tlsUrl(),
          topic_prefix: `${RUN}-tls`,
          connect_timeout_ms: 3000,
          ...over,
        }),
        { site: 'site-tls' },
      );

    test('with the CA and the right password, state is delivered over TLS', async () => {
      const sub = await subscriber(tlsUrl(), [`${RUN}-tls/#`], {
        ca: readFileSync(ca),
        username: 'rigtel',
        password: 'pw-Tls-42',
      });
      const sink = sinkFor({ username: 'rigtel', password: 'pw-Tls-42', tls: { ca } });
      try {
        await sink.open();
        await sink.write([{ seq: 1, sample: makeSample('tls-rig', T0, {}, 'site-tls') }]);
        await waitFor('state over TLS', () =>
          sub.got.some((g) => g.topic === `${RUN}-tls/site-tls/tls-rig/state`),
        );
      } finally {
        await sink.close();
        await sub.client.endAsync();
      }
    });

    test('a wrong password is RT_ERR_SINK_MQTT_REFUSED; an unknown CA or a missing CA file are named errors', async () => {
      await assert.rejects(sinkFor({ username: 'rigtel', password: 'wrong', tls: { ca } }).open(), {
        code: 'RT_ERR_SINK_MQTT_REFUSED',
      });
      await assert.rejects(
        sinkFor({ username: 'rigtel', password: 'pw-Tls-42' }).open(),
        (err: Error & { code?: string }) => {
          // A certificate that does not verify is a configuration problem with its own code, not an outage.
          assert.equal(err.code, 'RT_ERR_SINK_MQTT_TLS_VERIFY');
          assert.match(err.message, /certificate/i);
          return true;
        },
      );
      // A missing CA file is refused by the config check; one that vanishes after it is a named error at open.
      assert.throws(
        () => sinkFor({ tls: { ca: join(broker.dir, 'missing.crt') } }),
        /missing\.crt does not exist/,
      );
      const vanishing = join(broker.dir, 'vanishing.crt');
      writeFileSync(vanishing, readFileSync(ca));
      const sink = sinkFor({ tls: { ca: vanishing } });
      rmSync(vanishing);
      await assert.rejects(sink.open(), { code: 'RT_ERR_SINK_MQTT_TLS' });
    });
  });
});
