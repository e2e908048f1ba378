/**
 * The sinks a collector writes to, built from validated config. The embedded store is always first (it is the
 * API's history in single-site mode); other sinks are added below.
 */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../lib/log.js';
import type { AlertFeed } from '../alerts.js';
import { rigNamesFromConfig } from '../rig-names.js';
import type { EmbeddedStore } from './embedded.js';
import { InfluxSink } from './influx.js';
import { MqttSink } from './mqtt.js';
import type { Sink } from './sink.js';

export interface SinkDeps {
  /** The embedded store, already opened by the runtime (identity mapping lives in it too). */
  store: EmbeddedStore;
  log: Logger;
  now?: () => number;
  /** The collector's alert engine: the MQTT sink publishes its events (the API lists the same engine's alerts). */
  alerts?: AlertFeed;
}

export function sinksFromConfig(config: Config, deps: SinkDeps): Sink[] {
  const sinks: Sink[] = [deps.store];
  // Extension point: one line per configured sink, e.g.
  //   if (config.sinks.influxdb) sinks.push(new InfluxSink(config.sinks.influxdb, deps));
  //   if (config.sinks.mqtt) sinks.push(new MqttSink(config.sinks.mqtt, deps));
  // Each sink needs a unique, stable `name`: the journal keeps its acknowledged offset under that name.
  if (config.sinks.influx?.enabled)
    sinks.push(new InfluxSink(config.sinks.influx, { log: deps.log, names: rigNamesFromConfig(config) }));
  if (config.sinks.mqtt?.enabled) {
    const names = rigNamesFromConfig(config);
    sinks.push(
      new MqttSink(config.sinks.mqtt, {
        site: config.site.name,
        log: deps.log,
        ...(deps.alerts ? { alerts: deps.alerts } : {}),
        names,
      }),
    );
  }
  return sinks;
}
