/**
 * The alert engine of a standalone `rigtel api`: the same `AlertEngine` and `AlertLog` as `rigtel run`, fed with
 * the states the collectors publish on MQTT (`BrokerFleet.onSample`) and with the offline marks of rigs whose
 * collector went away (`BrokerFleet.onOffline`), so such a rig raises `rig_offline` as a rig that stops answering
 * its collector does (after `min_duration_s`, its message naming RT_ERR_BROKER_COLLECTOR_GONE).
 *
 * A state message carries the summary figures only (collector/sinks/mqtt.ts `statePayload`): state, hashrate and
 * nameplate, the hottest chip and board, every fan's rpm, power and its source, model. Those decide every rule
 * but one: it carries how many boards the rig lists, not which of them hash (chips, per-board hashrate), so
 * `board_missing` is not judged here (`brokerAlertRules`); the collector's own engine judges it, and publishes
 * its alerts on `<prefix>/<site>/alerts`. Fans are numbered by their place in the published list. A rig is named
 * and placed as this process's config says, else as its collector's state message says.
 */
import type { Config } from '../config/schema.js';
import type { AlertsConfig } from '../config/sections/alerts.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Sample } from '../protocols/sample.js';
import { AlertLog } from './alert-log.js';
import { AlertEngine } from './alerts.js';
import type { BrokerFleet } from './broker-fleet.js';
import { rigNamesFromConfig } from './rig-names.js';

/** The rules in force over MQTT states: the config's, without `board_missing` (the message cannot decide it). */
export function brokerAlertRules(rules: AlertsConfig): AlertsConfig {
  return { ...rules, board_missing: { ...rules.board_missing, enabled: false } };
}

export interface BrokerAlerts {
  engine: AlertEngine;
  /** Unsubscribe from the fleet and stop the digest. */
  stop(): void;
}

/**
 * Run the alert engine over `fleet`: every alert change is logged (one line each up to a budget, then a digest
 * a period, as in `rigtel run`: collector/alert-log.ts). The engine's `active()` is what `/v1/alerts` lists.
 */
export function startBrokerAlerts(
  fleet: BrokerFleet,
  config: Config,
  log: Logger,
  opts: { digestPeriodMs?: number } = {},
): BrokerAlerts {
  const rigNames = rigNamesFromConfig(config);
  // Named and placed as this process's config says, else as the rig's collector said in its state message.
  const engine = new AlertEngine(brokerAlertRules(config.alerts), {
    describe: (s) => {
      const own = rigNames(s.address);
      if (own.name !== null && own.location !== null) return own;
      const theirs = fleet.placeOf(s.address);
      return { name: own.name ?? theirs.name, location: own.location ?? theirs.location };
    },
  });
  const alertLog = new AlertLog(log, {
    active: () => engine.active(),
    ...(opts.digestPeriodMs ? { periodMs: opts.digestPeriodMs } : {}),
  });
  const offEvents = engine.onEvent((event) => alertLog.event(event));
  let failures = 0;
  const observe = (sample: Sample) => {
    try {
      engine.observe(sample);
    } catch (err) {
      // One warning per 100 failures: a broken engine must not flood the log with a line per state.
      if (failures++ % 100 === 0)
        log.warn(
          { code: errorCode(err), err: errorMessage(err), rig_id: sample.rig_id },
          'alert engine failed on a sample',
        );
    }
  };
  const offSample = fleet.onSample(observe);
  const offOffline = fleet.onOffline(observe);
  if (config.alerts.enabled) alertLog.start();
  return {
    engine,
    stop() {
      offSample();
      offOffline();
      offEvents();
      alertLog.stop();
    },
  };
}
