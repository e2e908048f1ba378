/**
 * `rigtel api`: the HTTP API on its own, polling nothing. Live state comes from the MQTT broker the collectors
 * (one or several shards) publish to: every rig's retained state and every collector's availability, for the
 * configured site or all sites. The same routes as `rigtel run` read it through a `BrokerFleet`. History comes
 * from the InfluxDB in `sinks.influx` (the one the collectors write to; collector/influx-history.ts); without it
 * the history route answers RT_ERR_API_HISTORY_UNAVAILABLE (501). With InfluxDB, economics read hourly rollups
 * from it too (collector/influx-rollups.ts: energy and hashing seconds estimated) and market values this process
 * records itself from the providers in config; without it they answer RT_ERR_ECON_UNAVAILABLE (501). With loans
 * in config and InfluxDB, loans are served too: reports and signed rollups from InfluxDB (loans/influx-source.ts:
 * the same estimates, named in each report's `data_source`; pledges matched by MAC, as neither InfluxDB nor the
 * state messages carry serials), live pledged-vs-seen from the MQTT states, and this process's own signing key,
 * loans.db and audit log in its storage.dir; without InfluxDB they answer RT_ERR_LOAN_UNAVAILABLE (501).
 * Alerts (/v1/alerts, /v1/events) come from this process's own alert engine, the one `rigtel run` uses, over the
 * MQTT states (collector/broker-alerts.ts): every rule but board_missing (the state message has no per-board
 * readings), rig_offline also for a rig marked offline because its collector went away, pledge alerts from the
 * loan watchers, and the same alert log lines and digest as `rigtel run`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { buildApp } from '../api/app.js';
import { assertListenAllowed } from '../api/auth.js';
import { ApiErrors } from '../api/errors.js';
import { TokenStore } from '../api/tokens.js';
import { startBrokerAlerts } from '../collector/broker-alerts.js';
import { BrokerFleet } from '../collector/broker-fleet.js';
import { economicsSettings, marketFromConfig, rigMetaFrom } from '../collector/economics/wiring.js';
import { InfluxHistory } from '../collector/influx-history.js';
import { InfluxRollups } from '../collector/influx-rollups.js';
import type { MarketService } from '../collector/market/service.js';
import { targetsFromConfig } from '../collector/runtime.js';
import { topicSegment, withCredentialsAndTls } from '../collector/sinks/mqtt.js';
import type { SinkStatus } from '../collector/sinks/sink.js';
import type { EconomicsDeps, HistorySource } from '../collector/views.js';
import { loadConfig } from '../config/load.js';
import { splitAddress } from '../config/schema.js';
import type { MqttSinkConfig } from '../config/sections/sinks.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { InfluxLoanSource } from '../loans/influx-source.js';
import { LoanService } from '../loans/service.js';
import { checkConfigFile } from './config-check.js';
import { CliErrors } from './errors.js';
import type { Io } from './io.js';

/** No state from a rig's collector for this many poll intervals: stale. */
export const STALE_INTERVALS = 3;
/** … and for this many: offline. */
export const OFFLINE_INTERVALS = 10;

export interface ApiOptions {
  configFile: string | undefined;
  io: Io;
  /** Every site on the broker under the topic prefix, not only config.site.name. */
  allSites?: boolean;
  signal?: AbortSignal;
}

/** Without sinks.influx there is no history here: a rig's history answers a named 501. */
const noHistory: HistorySource = {
  history: async () => {
    throw ApiErrors.historyUnavailable();
  },
  hasRig: async () => false,
};

function clientOptions(c: MqttSinkConfig): IClientOptions {
  const opts: IClientOptions = {
    clientId: `rigtel-api-${Math.random().toString(36).slice(2, 10)}`,
    clean: true,
    keepalive: c.keepalive_s,
    connectTimeout: c.connect_timeout_ms,
    reconnectPeriod: 1000,
  };
  return withCredentialsAndTls(c, opts);
}

export async function apiCommand(opts: ApiOptions): Promise<number> {
  const { io } = opts;
  if (opts.configFile) {
    const check = checkConfigFile(opts.configFile, io.env);
    if (!check.ok) {
      io.err(check.text);
      return 2;
    }
  }
  const config = loadConfig(opts.configFile, io.env);
  const mqttCfg = config.sinks.mqtt;
  if (!mqttCfg) throw CliErrors.apiNeedsMqtt();
  const log = createLogger(config.log.level, { base: { site: config.site.name, role: 'api' }, stderr: true });
  const interval = config.poll.interval_ms;
  const fleet = new BrokerFleet(targetsFromConfig(config), {
    staleAfterMs: STALE_INTERVALS * interval,
    offlineAfterMs: OFFLINE_INTERVALS * interval,
  });
  const startedMs = Date.now();
  // Alerts: the engine `rigtel run` uses, over the states from MQTT and the offline marks of rigs whose collector
  // went away; its changes go to the log (one line each up to a budget, then a digest a minute).
  const alerts = startBrokerAlerts(fleet, config, log);
  const influxCfg = config.sinks.influx?.enabled ? config.sinks.influx : undefined;
  const history = influxCfg
    ? new InfluxHistory({
        influx: influxCfg,
        caps: { intervalMs: interval, backoffMaxMs: config.poll.backoff_max_ms },
        log,
      })
    : noHistory;
  // Economics need the period's hourly rollups (from InfluxDB) and market values: this process records its own
  // from the providers in config, into market.sqlite in its storage.dir.
  let market: MarketService | null = null;
  if (influxCfg) {
    mkdirSync(config.storage.dir, { recursive: true });
    market = marketFromConfig(config, { log });
    market.start();
  }
  const economics: EconomicsDeps | undefined =
    influxCfg && market
      ? {
          market,
          rollups: new InfluxRollups({
            influx: influxCfg,
            intervalMs: interval,
            rigCount: () => fleet.size(),
            log,
          }),
          settings: economicsSettings(config, interval),
          meta: rigMetaFrom(fleet, config),
        }
      : undefined;
  const stopMarket = () => {
    market?.stop();
    market?.store.close();
  };

  // Loans: with InfluxDB, reports read its hourly rollups and polls (estimates named in each report), and the
  // pledge watchers follow the live states from MQTT. The signing key, loans.db and the audit log are this
  // process's own, in its storage.dir. Without InfluxDB the loan routes answer RT_ERR_LOAN_UNAVAILABLE.
  const hasLoans = config.loans.facilities.length > 0 || Boolean(config.loans.loans_dir);
  let loans: LoanService | undefined;
  if (hasLoans && influxCfg) {
    try {
      loans = new LoanService({
        config,
        source: new InfluxLoanSource({
          influx: influxCfg,
          intervalMs: interval,
          rigCount: () => fleet.size(),
          log,
        }),
        liveSerials: false,
        // Pledge alerts join the engine's list, log and listeners, as in `rigtel run`.
        alerts: alerts.engine,
        ...(market ? { market: { store: market.store, feesValidMs: config.market.fees_valid_ms } } : {}),
        ...(opts.configFile ? { baseDir: dirname(opts.configFile) } : {}),
      });
    } catch (err) {
      stopMarket();
      alerts.stop();
      throw err;
    }
    const service = loans;
    let badObserve = 0;
    fleet.onSample((sample) => {
      try {
        service.observe(sample);
      } catch (err) {
        if (badObserve++ % 100 === 0)
          log.warn({ code: errorCode(err), err: errorMessage(err) }, 'loan watcher failed on a state');
      }
    });
  }
  const closeLoans = () => loans?.close();

  // <prefix>/<site>/<rig>/state, <prefix>/<site>/collector[/<id>]/availability
  const prefix = mqttCfg.topic_prefix;
  const site = opts.allSites ? '+' : topicSegment(config.site.name);
  const depth = prefix.split('/').length;
  const client = mqtt.connect(mqttCfg.url, clientOptions(mqttCfg));
  let lastError: { code: string; message: string; at_ms: number } | null = null;
  let lastOkMs: number | null = null;
  let badStates = 0;
  client.on('connect', () => {
    lastError = null;
    lastOkMs = Date.now();
    client.subscribe(
      [
        `${prefix}/${site}/+/state`,
        `${prefix}/${site}/collector/availability`,
        `${prefix}/${site}/collector/+/availability`,
      ],
      { qos: 1 },
      (err) => {
        if (err) log.error({ err: errorMessage(err) }, 'MQTT subscribe failed');
      },
    );
  });
  client.on('error', (err) => {
    lastError = { code: 'RT_ERR_SINK_MQTT_UNAVAILABLE', message: errorMessage(err), at_ms: Date.now() };
  });
  client.on('message', (topic, payload) => {
    lastOkMs = Date.now();
    const levels = topic.split('/').slice(depth);
    const text = payload.toString();
    try {
      const [siteLevel, second, third, fourth] = levels;
      if (!siteLevel) return;
      if (levels.length === 3 && third === 'state') fleet.state(topic, siteLevel, text);
      else if (second === 'collector' && levels.length === 3 && third === 'availability')
        fleet.collector(siteLevel, null, text);
      else if (second === 'collector' && levels.length === 4 && fourth === 'availability')
        fleet.collector(siteLevel, third ?? null, text);
    } catch (err) {
      // One warning per 100 bad messages: another publisher on the prefix must not flood the log.
      if (badStates++ % 100 === 0) log.warn({ code: errorCode(err), err: errorMessage(err) }, 'ignored');
    }
  });
  const ticker = setInterval(() => fleet.tick(), Math.min(1000, Math.max(100, interval / 4)));
  ticker.unref();

  const sourceStatus = (): SinkStatus => ({
    name: 'mqtt (live state source)',
    state: client.connected ? 'ok' : 'retrying',
    lag_samples: 0,
    acked_seq: 0,
    last_ok_ms: lastOkMs,
    last_error: client.connected ? null : lastError,
  });

  const tokens = new TokenStore(config.storage.dir);
  assertListenAllowed(splitAddress(config.api.listen, 8080).host, config.api.listen, tokens);
  const app = buildApp({
    fleet,
    history,
    alerts: () => alerts.engine.active(),
    onSample: (fn) => fleet.onSample(fn),
    ...(economics ? { economics } : {}),
    ...(loans ? { loans } : hasLoans ? { loansUnavailable: true } : {}),
    health: {
      started_ms: startedMs,
      sinks: () => [sourceStatus()],
      polling: () => ({
        rigs: fleet.size(),
        up: fleet.upCount(),
        last_sweep_ms: fleet.newestMs(),
        last_sweep_duration_ms: null,
      }),
    },
    config,
    log,
    tokens,
  });
  const { host, port } = splitAddress(config.api.listen, 8080);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    stopMarket();
    closeLoans();
    alerts.stop();
    clearInterval(ticker);
    await client.endAsync(true);
    throw CliErrors.listen.with(
      { cause: err },
      config.api.listen,
      (err as NodeJS.ErrnoException).code ?? String(err),
    );
  }
  const addr = app.server.address();
  const base =
    addr && typeof addr === 'object'
      ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
      : `http://${config.api.listen}`;
  io.out(
    `rigtel api: live state from ${mqttCfg.url} (${prefix}/${opts.allSites ? '+' : site}/…), no polling here\n` +
      `  history  ${influxCfg ? `InfluxDB ${new URL(influxCfg.url).host}, database ${influxCfg.database}` : 'not served (configure sinks.influx)'}\n` +
      (hasLoans
        ? `  loans    ${loans ? `${loans.facilities.length} facilities from InfluxDB (estimates named in each report), signing key ${loans.key.fingerprint.slice(0, 16)}…` : 'not served (configure sinks.influx)'}\n`
        : '') +
      `  API      ${base}/v1/fleet   ${base}/v1/rigs   ${base}/v1/alerts   ${base}/v1/status\n` +
      `  health   ${base}/healthz\n` +
      'Ctrl-C to stop.\n',
  );

  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      opts.signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (opts.signal?.aborted) done();
    else opts.signal?.addEventListener('abort', done, { once: true });
  });
  io.out('stopping\n');
  clearInterval(ticker);
  await app.close();
  stopMarket();
  closeLoans();
  alerts.stop();
  await client.endAsync(true);
  io.out('stopped\n');
  return 0;
}
