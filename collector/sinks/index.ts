/**
 * The sinks a collector writes to, built from validated config. The embedded store is always first (it is the
 * API's history in single-site mode); other sinks are added below.
 */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../journal.js';
import type { EmbeddedStore } from './embedded.js';
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
  void config;
  return sinks;
}
