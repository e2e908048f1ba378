/**
 * MQTT sink (mqtt.js): live per-rig state, retained availability, the collector's own last-will, alerts and optional
 * Home Assistant discovery.
 *
 * Topics (`<p>` = topic_prefix, default `rigtel`):
 *   <p>/<site>/<rig>/state               JSON snapshot per sample, QoS `qos` (default 1), retained (`retain_state`)
 *                                        so a late subscriber (a standalone `rigtel api`) gets every rig's last state
 *   <p>/<site>/<rig>/availability        `online` / `offline`, retained
 *   <p>/<site>/collector/availability    `online` on connect, `offline` as the MQTT will and on clean stop, retained;
 *                                        with several shards each has its own: <p>/<site>/collector/<index>/availability
 *   <p>/<site>/alerts                    alert events (raised / cleared / event), QoS 1
 *   <ha>/sensor/<uid>/config             Home Assistant discovery, retained
 *
 * Delivery: write() resolves only when the broker acknowledged every QoS ≥ 1 publish of the batch, so the journal
 * offset moves only past delivered samples. While disconnected write() throws the retryable
 * RT_ERR_SINK_MQTT_UNAVAILABLE at once and publishes nothing: the offline queue is the journal, not memory.
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttSinkConfig } from '../../config/sections/sinks.js';
import { errorMessage } from '../../lib/errors.js';
import { type Logger, silentLogger } from '../../lib/log.js';
import type { Sample } from '../../protocols/sample.js';
import type { AlertEvent, AlertFeed } from '../alerts.js';
import type { RigNames } from '../rig-names.js';
import { MqttSinkErrors } from './errors.js';
import type { JournalEntry, Sink } from './sink.js';

export { MqttSinkErrors };

/** The sink logs through the one `Logger` type (lib/log.ts). */
export type MqttSinkLog = Logger;

export interface MqttSinkDeps {
  /** Site name (config.site.name): the second topic level. */
  site: string;
  log?: MqttSinkLog;
  name?: string;
  /**
   * The collector's alert engine (the same one the API lists): its events are published on <p>/<site>/alerts,
   * queued (bounded) while the broker is away.
   */
  alerts?: AlertFeed;
  /**
   * Configured rig names and locations by polled address (collector/rig-names.ts): a named rig's topics use its
   * name in place of its id, and its Home Assistant device carries the name and a suggested area.
   */
  names?: (address: string) => RigNames;
  /**
   * This collector's id among several on one site (its shard index): its availability topic becomes
   * <p>/<site>/collector/<id>/availability and every state message names it, so a standalone API knows whose
   * rigs went stale when one collector goes away.
   */
  collectorId?: string;
}

/** One MQTT topic level from an id: no wildcards, no level separator, no NUL, never empty. */
export function topicSegment(value: string): string {
  const s = value.replace(/[+#/\u0000]/g, '_').replace(/\s+/g, '_');
  return s.length ? s.slice(0, 128) : '_';
}

/** Home Assistant ids: [a-zA-Z0-9_-] only. */
function haId(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The state JSON: the live figures, without raw replies or pool worker names. */
export function statePayload(
  s: Sample,
  names?: RigNames,
  collectorId: string | null = null,
): Record<string, unknown> {
  const active = s.pools.find((p) => p.active) ?? null;
  return {
    v: 1,
    site: s.site,
    rig_id: s.rig_id,
    address: s.address,
    collector: collectorId,
    name: names?.name ?? null,
    location: names?.location ?? null,
    at_ms: s.at_ms,
    state: s.state,
    online: s.poll.ok && s.state !== 'offline',
    make: s.identity.make,
    model: s.identity.model,
    firmware: s.identity.firmware,
    mac: s.identity.mac,
    family: s.identity.family,
    hashrate_hs: s.hashrate_hs,
    hashrate_avg_hs: s.hashrate_avg_hs,
    hashrate_nominal_hs: s.hashrate_nominal_hs,
    power_w: s.power_w,
    power_source: s.power_source,
    power_miner_w: s.power_miner_w,
    energy_wh: s.energy_wh,
    temp_chip_max_c: s.temp_chip_max_c,
    temp_board_max_c: s.temp_board_max_c,
    fan_rpm: s.fans.map((f) => f.rpm),
    boards: s.boards.length,
    uptime_s: s.uptime_s,
    pool_url: active?.url ?? null,
    support: s.support,
    poll: { ok: s.poll.ok, duration_ms: s.poll.duration_ms, error_code: s.poll.error_code },
  };
}

interface HaSensor {
  key: string;
  name: string;
  template: string;
  unit?: string;
  device_class?: string;
  state_class?: string;
}

// Hashrate has no HA device class; TH/s is what operators read. Energy must be Wh/kWh + total_increasing for
// HA's Energy dashboard (Home Assistant docs: "Sensor entity", state classes and the Energy dashboard).
const HA_SENSORS: HaSensor[] = [
  {
    key: 'hashrate',
    name: 'Hashrate',
    template:
      '{{ (value_json.hashrate_hs / 1e12) | round(2) if value_json.hashrate_hs is not none else none }}',
    unit: 'TH/s',
    state_class: 'measurement',
  },
  {
    key: 'power',
    name: 'Power',
    template: '{{ value_json.power_w }}',
    unit: 'W',
    device_class: 'power',
    state_class: 'measurement',
  },
  {
    key: 'energy',
    name: 'Energy',
    template: '{{ value_json.energy_wh }}',
    unit: 'Wh',
    device_class: 'energy',
    state_class: 'total_increasing',
  },
  {
    key: 'temp_chip',
    name: 'Chip temperature',
    template: '{{ value_json.temp_chip_max_c }}',
    unit: '°C',
    device_class: 'temperature',
    state_class: 'measurement',
  },
  {
    key: 'temp_board',
    name: 'Board temperature',
    template: '{{ value_json.temp_board_max_c }}',
    unit: '°C',
    device_class: 'temperature',
    state_class: 'measurement',
  },
  { key: 'state', name: 'State', template: '{{ value_json.state }}' },
];

/** OpenSSL / Node codes of a certificate that did not verify (as opposed to a broker that is down). */
const TLS_VERIFY_CODES =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_REVOKED|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)$/;

/**
 * The broker login and TLS material of `c` added to `opts`: the sink and the standalone API (`rigtel api`)
 * connect the same way. A TLS file that cannot be read is RT_ERR_SINK_MQTT_TLS.
 */
export function withCredentialsAndTls(c: MqttSinkConfig, opts: IClientOptions): IClientOptions {
  if (c.username) opts.username = c.username;
  if (c.password) opts.password = c.password.reveal();
  if (c.url.startsWith('mqtts:')) {
    opts.rejectUnauthorized = c.tls.reject_unauthorized;
    for (const k of ['ca', 'cert', 'key'] as const) {
      const path = c.tls[k];
      if (!path) continue;
      try {
        opts[k] = readFileSync(path);
      } catch (err) {
        throw MqttSinkErrors.tls(path, (err as NodeJS.ErrnoException).code ?? errorMessage(err));
      }
    }
  }
  return opts;
}

export class MqttSink implements Sink {
  readonly name: string;
  readonly #cfg: MqttSinkConfig;
  readonly #site: string;
  readonly #log: MqttSinkLog;
  #unsubscribeAlerts: (() => void) | null = null;
  readonly #feed: AlertFeed | undefined;
  /** The retained list of active alerts needs publishing (an event happened, or a new session started). */
  #activeStale = false;
  readonly #names: (address: string) => RigNames;
  readonly #collectorId: string | null;
  #client: MqttClient | null = null;
  /** Rig → last availability published on this connection (re-sent after each reconnect). */
  readonly #availability = new Map<string, string>();
  /** Rigs whose HA discovery was published on this connection. */
  readonly #discovered = new Set<string>();
  /** Alert events not yet acknowledged by the broker (bounded). */
  #pendingAlerts: AlertEvent[] = [];
  #lastError = 'not connected';
  /** The last connect failed certificate verification (see TLS_VERIFY_CODES). */
  #tlsFailure = false;
  #flushing: Promise<void> | null = null;

  constructor(cfg: MqttSinkConfig, deps: MqttSinkDeps) {
    this.#cfg = cfg;
    this.#site = deps.site;
    this.name = deps.name ?? 'mqtt';
    this.#log = deps.log ?? silentLogger;
    this.#feed = deps.alerts;
    if (deps.alerts) this.#unsubscribeAlerts = deps.alerts.onEvent((ev) => this.#queueAlert(ev));
    this.#names = deps.names ?? (() => ({ name: null, location: null }));
    this.#collectorId = deps.collectorId ?? null;
  }

  /** The topic level for a rig: its configured name, else its id. */
  #rigKey(sample: Sample): string {
    return this.#names(sample.address).name ?? sample.rig_id;
  }

  get collectorTopic(): string {
    return this.#collectorId === null
      ? `${this.#base()}/collector/availability`
      : `${this.#base()}/collector/${topicSegment(this.#collectorId)}/availability`;
  }

  #base(): string {
    return `${this.#cfg.topic_prefix}/${topicSegment(this.#site)}`;
  }

  rigTopic(rigId: string, leaf: 'state' | 'availability'): string {
    return `${this.#base()}/${topicSegment(rigId)}/${leaf}`;
  }

  /** Retained: the alerts active now, as the API lists them (replaced on every change and on every connect). */
  get activeAlertsTopic(): string {
    return `${this.#base()}/alerts/active`;
  }

  get alertsTopic(): string {
    return `${this.#base()}/alerts`;
  }

  #options(): IClientOptions {
    const c = this.#cfg;
    const opts: IClientOptions = {
      // Clean sessions, so a fixed id buys nothing; a random suffix keeps two collectors on one host (or two
      // test runs) from kicking each other off the broker.
      clientId:
        c.client_id ??
        `rigtel-${haId(this.#site)}-${haId(hostname())}`.slice(0, 48) +
          `-${Math.random().toString(36).slice(2, 8)}`,
      clean: true,
      keepalive: c.keepalive_s,
      connectTimeout: c.connect_timeout_ms,
      reconnectPeriod: 1000,
      // The journal is the offline queue: never let mqtt.js buffer QoS 0 messages in memory while down.
      queueQoSZero: false,
      will: { topic: this.collectorTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    return withCredentialsAndTls(c, opts);
  }

  async open(): Promise<void> {
    if (this.#client && !this.#client.disconnecting) return;
    const client = mqtt.connect(this.#cfg.url, this.#options());
    this.#client = client;
    client.on('connect', () => {
      // A new session: retained availability and HA configs are re-published with the next batch.
      this.#availability.clear();
      this.#discovered.clear();
      this.#lastError = '';
      client.publish(this.collectorTopic, 'online', { qos: 1, retain: true }, () => {});
      // A restarted collector's engine starts empty: replace what the broker retained from before.
      if (this.#feed) {
        this.#activeStale = true;
        this.#startFlush(client).catch((err) =>
          this.#log.warn({ err: errorMessage(err) }, 'active alerts wait for the next write'),
        );
      }
      if (this.#cfg.home_assistant.enabled) {
        client.subscribe(`${this.#cfg.home_assistant.prefix}/status`, { qos: 0 }, () => {});
      }
    });
    client.on('message', (topic, payload) => {
      // Home Assistant restarted (its birth message): discovery configs go out again with the next batch.
      if (topic === `${this.#cfg.home_assistant.prefix}/status` && payload.toString() === 'online') {
        this.#discovered.clear();
      }
    });
    client.on('close', () => {
      if (!this.#lastError) this.#lastError = 'connection closed';
    });
    this.#tlsFailure = false;
    client.on('error', (err: Error & { code?: string | number }) => {
      this.#lastError = errorMessage(err);
      if (typeof err.code === 'string' && TLS_VERIFY_CODES.test(err.code)) this.#tlsFailure = true;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(
            MqttSinkErrors.unavailable(this.#cfg.url, `no CONNACK within ${this.#cfg.connect_timeout_ms} ms`),
          );
        }, this.#cfg.connect_timeout_ms + 500);
        const onConnect = () => {
          cleanup();
          resolve();
        };
        const onError = (err: Error & { code?: string | number }) => {
          // Bad credentials / not authorised are CONNACK return codes 4/5 (v3.1.1) or 134/135 (v5).
          if (typeof err.code === 'number' && [4, 5, 134, 135].includes(err.code)) {
            cleanup();
            reject(MqttSinkErrors.refused(this.#cfg.url, errorMessage(err)));
          }
        };
        // The socket closed before a CONNACK (refused, reset): fail now, the fan-out retries open() with backoff.
        // A certificate that did not verify is its own error: a configuration problem, not the broker being down.
        const onClose = () => {
          cleanup();
          const why = this.#lastError || 'connection closed before CONNACK';
          reject(
            this.#tlsFailure
              ? MqttSinkErrors.tlsVerify(this.#cfg.url, why)
              : MqttSinkErrors.unavailable(this.#cfg.url, why),
          );
        };
        const cleanup = () => {
          clearTimeout(timer);
          client.off('connect', onConnect);
          client.off('error', onError);
          client.off('close', onClose);
        };
        client.on('connect', onConnect);
        client.on('error', onError);
        client.on('close', onClose);
      });
    } catch (err) {
      // Do not leave a reconnecting client behind: the fan-out retries open() with its own backoff.
      this.#client = null;
      client.end(true);
      throw err;
    }
  }

  /** Publish; resolves on the broker's ack (QoS ≥ 1) or the socket write (QoS 0). */
  #publish(
    client: MqttClient,
    topic: string,
    payload: string,
    qos: 0 | 1 | 2,
    retain: boolean,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos, retain }, (err) => {
        if (err) reject(MqttSinkErrors.unavailable.with({ cause: err }, this.#cfg.url, errorMessage(err)));
        else resolve();
      });
    });
  }

  /**
   * Wait for every publish of a batch, but give up as soon as the connection drops or the broker stops acking:
   * mqtt.js would otherwise hold the callbacks until some later reconnect.
   */
  async #settle(client: MqttClient, pubs: Promise<void>[]): Promise<void> {
    let onClose = () => {};
    let timer: NodeJS.Timeout | undefined;
    const lost = new Promise<never>((_, reject) => {
      onClose = () =>
        reject(
          MqttSinkErrors.unavailable(this.#cfg.url, this.#lastError || 'connection lost before the ack'),
        );
      timer = setTimeout(
        () =>
          reject(
            MqttSinkErrors.unavailable(this.#cfg.url, `no ack within ${this.#cfg.connect_timeout_ms} ms`),
          ),
        this.#cfg.connect_timeout_ms,
      );
    });
    client.once('close', onClose);
    try {
      const results = await Promise.race([Promise.allSettled(pubs), lost]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } finally {
      clearTimeout(timer);
      client.off('close', onClose);
      // The late rejections of a lost batch are expected; keep them from surfacing as unhandled.
      for (const p of pubs) p.catch(() => {});
    }
  }

  #connected(): MqttClient {
    const client = this.#client;
    if (!client?.connected) {
      throw MqttSinkErrors.unavailable(this.#cfg.url, this.#lastError || 'not connected');
    }
    return client;
  }

  async write(batch: readonly JournalEntry[]): Promise<void> {
    const client = this.#connected();
    const qos = this.#cfg.qos;
    const retainAvail = this.#cfg.retain_availability;
    const retainState = this.#cfg.retain_state;
    const pubs: Promise<void>[] = [];
    const newAvailability = new Map<string, string>();
    const newDiscovered = new Set<string>();
    const latest = new Map<string, Sample>();
    for (const { seq, sample } of batch) {
      let body: string;
      let topic: string;
      try {
        if (typeof sample.rig_id !== 'string') throw new TypeError('rig_id is not a string');
        topic = this.rigTopic(this.#rigKey(sample), 'state');
        body = JSON.stringify(statePayload(sample, this.#names(sample.address), this.#collectorId));
      } catch (err) {
        // A malformed journal entry (older schema, hand-edited): skip it here, never loop on it.
        const e = MqttSinkErrors.badSample(seq, errorMessage(err));
        this.#log.warn({ code: e.code, seq }, e.message);
        continue;
      }
      pubs.push(this.#publish(client, topic, body, qos, retainState));
      latest.set(sample.rig_id, sample);
    }
    for (const [rigId, sample] of latest) {
      const avail = sample.poll.ok && sample.state !== 'offline' ? 'online' : 'offline';
      if (this.#availability.get(rigId) !== avail) {
        pubs.push(
          this.#publish(client, this.rigTopic(this.#rigKey(sample), 'availability'), avail, 1, retainAvail),
        );
        newAvailability.set(rigId, avail);
      }
      if (this.#cfg.home_assistant.enabled && !this.#discovered.has(rigId)) {
        for (const [topic, body] of this.discoveryConfigs(sample))
          pubs.push(this.#publish(client, topic, body, 1, true));
        newDiscovered.add(rigId);
      }
    }
    await this.#settle(client, pubs);
    for (const [rigId, avail] of newAvailability) this.#availability.set(rigId, avail);
    for (const rigId of newDiscovered) this.#discovered.add(rigId);
    // Events queued while the broker was away go out now.
    await this.#startFlush(client);
  }

  /** An event from the engine: queue it and publish it now when connected, else with the next write. */
  #queueAlert(ev: AlertEvent): void {
    this.#activeStale = true;
    // Bounded: an alert storm during a long broker outage keeps the newest 10 000 events.
    this.#pendingAlerts = [...this.#pendingAlerts, ev].slice(-10_000);
    const client = this.#client;
    if (client?.connected)
      this.#startFlush(client).catch((err) =>
        this.#log.warn({ err: errorMessage(err) }, 'alert events wait for the next write'),
      );
  }

  /**
   * One flush at a time, so an event is never published twice; a second caller waits for the running one, and
   * events that arrived meanwhile go out in a follow-up flush.
   */
  #startFlush(client: MqttClient): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#flushAlerts(client).then(
        () => {
          this.#flushing = null;
          if ((this.#pendingAlerts.length || this.#activeStale) && client.connected)
            return this.#startFlush(client);
        },
        (err) => {
          this.#flushing = null;
          throw err;
        },
      );
    }
    return this.#flushing;
  }

  async #flushAlerts(client: MqttClient): Promise<void> {
    while (this.#pendingAlerts.length && client.connected) {
      const alerts = this.#pendingAlerts;
      await this.#settle(
        client,
        alerts.map((ev) => this.#publish(client, this.alertsTopic, JSON.stringify(ev), 1, false)),
      );
      this.#pendingAlerts = this.#pendingAlerts.slice(alerts.length);
    }
    if (this.#feed && this.#activeStale && client.connected) {
      this.#activeStale = false;
      const active = JSON.stringify(this.#feed.active());
      try {
        await this.#settle(client, [this.#publish(client, this.activeAlertsTopic, active, 1, true)]);
      } catch (err) {
        this.#activeStale = true;
        throw err;
      }
    }
  }

  /** Home Assistant discovery configs for one rig: [topic, JSON] pairs. */
  discoveryConfigs(sample: Sample): [string, string][] {
    const prefix = this.#cfg.home_assistant.prefix;
    const place = this.#names(sample.address);
    const key = this.#rigKey(sample);
    const loc = place.location;
    // Home Assistant's device registry: identifiers stay the rig id, so renaming a rig keeps its history.
    const device = {
      identifiers: [`rigtel_${haId(this.#site)}_${haId(sample.rig_id)}`],
      name: place.name ?? sample.rig_id,
      manufacturer: sample.identity.make ?? undefined,
      model: sample.identity.model ?? undefined,
      sw_version: sample.identity.firmware ?? undefined,
      serial_number: sample.identity.serial ?? undefined,
      connections: sample.identity.mac ? [['mac', sample.identity.mac.toLowerCase()]] : undefined,
      suggested_area: loc ? `${loc.site} row ${loc.row} rack ${loc.rack}` : undefined,
      via_device: undefined,
    };
    return HA_SENSORS.map((s) => {
      const uid = `rigtel_${haId(this.#site)}_${haId(sample.rig_id)}_${s.key}`;
      const body: Record<string, unknown> = {
        name: s.name,
        unique_id: uid,
        object_id: uid,
        state_topic: this.rigTopic(key, 'state'),
        value_template: s.template,
        availability: [{ topic: this.rigTopic(key, 'availability') }, { topic: this.collectorTopic }],
        availability_mode: 'all',
        device,
        origin: { name: 'rigtel' },
      };
      if (s.unit) body.unit_of_measurement = s.unit;
      if (s.device_class) body.device_class = s.device_class;
      if (s.state_class) body.state_class = s.state_class;
      return [`${prefix}/sensor/${uid}/config`, JSON.stringify(body)];
    });
  }

  /** A TCP connect to the broker: true once it accepts again, so open() is retried at once rather than later. */
  probe(): Promise<boolean> {
    let host: string;
    let port: number;
    try {
      const u = new URL(this.#cfg.url);
      host = u.hostname.replace(/^\[|\]$/g, '');
      port = u.port ? Number(u.port) : u.protocol === 'mqtts:' ? 8883 : 1883;
    } catch {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const socket = tcpConnect({ host, port });
      const done = (up: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(up);
      };
      const timer = setTimeout(() => done(false), Math.min(1000, this.#cfg.connect_timeout_ms));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  }

  async close(): Promise<void> {
    this.#unsubscribeAlerts?.();
    this.#unsubscribeAlerts = null;
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    if (client.connected) {
      // A clean stop says so itself; the will covers crashes.
      await this.#settle(client, [this.#publish(client, this.collectorTopic, 'offline', 1, true)]).catch(
        () => {},
      );
    }
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}

export function createMqttSink(cfg: MqttSinkConfig, deps: MqttSinkDeps): MqttSink {
  return new MqttSink(cfg, deps);
}
