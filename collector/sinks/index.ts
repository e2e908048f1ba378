/**
 * The sinks a collector writes to, built from validated config. The embedded store is always first (it is the
 * API's history in single-site mode); other sinks are added below.
 */
import { hostname } from 'node:os';
import type { Config } from '../../config/schema.js';
import { AlertEngine } from '../alerts.js';
import type { Logger } from '../journal.js';
import { shardIndexFromHostname } from '../shard.js';
import type { EmbeddedStore } from './embedded.js';
import { InfluxSink } from './influx.js';
import { MqttSink } from './mqtt.js';
import type { Sink } from './sink.js';

export interface SinkDeps {
  /** The embedded store, already opened by the runtime (identity mapping lives in it too). */
  store: EmbeddedStore;
  log: Logger;
  now?: () => number;
}

export function sinksFromConfig(config: Config, deps: SinkDeps): Sink[] {
  const sinks: Sink[] = [deps.store];
  // Extension point: one line per configured sink, e.g.
  //   if (config.sinks.influxdb) sinks.push(new InfluxSink(config.sinks.influxdb, deps));
  //   if (config.sinks.mqtt) sinks.push(new MqttSink(config.sinks.mqtt, deps));
  // Each sink needs a unique, stable `name`: the journal keeps its acknowledged offset under that name.
  // Issue 4 (sinks): InfluxDB and MQTT. The MQTT sink runs its own AlertEngine over the journalled samples, so
  // alert events are delivered from the journal like state (replays are ignored by the engine's per-rig clock).
  if (config.sinks.influx?.enabled) sinks.push(new InfluxSink(config.sinks.influx, { log: deps.log }));
  if (config.sinks.mqtt?.enabled) {
    const alerts = config.alerts.enabled ? new AlertEngine(config.alerts) : undefined;
    const { index, count } = config.collector.shard;
    // Several collectors on one site: each announces its own availability under its shard index.
    const collectorId =
      count > 1
        ? String(index === 'hostname' ? (shardIndexFromHostname(hostname()) ?? hostname()) : index)
        : undefined;
    sinks.push(
      new MqttSink(config.sinks.mqtt, {
        site: config.site.name,
        log: deps.log,
        alerts,
        ...(collectorId !== undefined ? { collectorId } : {}),
      }),
    );
  }
  return sinks;
}
