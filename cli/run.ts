/**
 * `rigtel run`: the composition root. Config → logger → (emulated fleet) → collector → API, then a live line
 * every few seconds until SIGINT/SIGTERM, when everything is closed in reverse order and the exit code is 0.

 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import { assertListenAllowed } from '../api/auth.js';
import { summarizeFleet } from '../api/fleet-summary.js';
import { TokenStore } from '../api/tokens.js';
import { addressKey } from '../collector/address.js';
import { targetsFromScan } from '../collector/adopt.js';
import { AlertLog } from '../collector/alert-log.js';
import { type DirLock, lockDir } from '../collector/dir-lock.js';
import { scheduleRescans } from '../collector/discovery.js';
import { economicsSettings, marketFromConfig, rigMetaFrom } from '../collector/economics/wiring.js';
import { StorageErrors } from '../collector/errors.js';
import { defaultPollWorkers, PollWorkerPool } from '../collector/poll-workers.js';
import type { PowerMeter } from '../collector/power.js';
import { startCollector, targetsFromConfig } from '../collector/runtime.js';
import { ownTargets, type Shard, shardIndexFromHostname } from '../collector/shard.js';
import { type DeviceStatus, startSnmpPoller } from '../collector/snmp-poller.js';
import type { FleetView } from '../collector/views.js';
import { demoSnmpSection } from '../config/demo.js';
import { loadConfig } from '../config/load.js';
import { type Config, rigSchema, splitAddress } from '../config/schema.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { LoanService } from '../loans/service.js';
import { startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { loadPersonality } from '../protocols/emulator/personalities.js';
import { estimatePowerW, lookupModel } from '../protocols/models.js';
import { driverFor } from '../protocols/registry.js';
import { startEmulatedPdu } from '../protocols/snmp/emulator.js';
import { checkConfigFile } from './config-check.js';
import { CliErrors } from './errors.js';
import { tuneHeapGrowth, YOUNG_GENERATION_FLAG, youngGenerationSized } from './heap.js';
import type { Io } from './io.js';

export interface RunOptions {
  configFile: string | undefined;
  io: Io;
  /** Resolves the run when aborted (tests); SIGINT/SIGTERM do the same in production. */
  signal?: AbortSignal;
  /** Live line period; 0 disables it. */
  liveEveryMs?: number;
  /** Called when shutdown overruns its hard deadline (default process.exit). */
  exit?: (code: number) => void;
}

/** Exit code when shutdown overran its deadline: the process stopped without finishing its flush. */
export const EXIT_STOP_DEADLINE = 1;

/**
 * Emulated rigs are added to the config as ordinary rigs, so targets, API and summaries treat them alike; each
 * carries the tag `emulated: "true"`, which the rig views show as `emulated: true`. They replace the configured
 * rigs (the demo: there are none) or, with emulator.alongside_rigs, join them.
 */
export function withEmulatedRigs(
  config: Config,
  rigs: ReadonlyArray<{ name: string; address: string; family: string }>,
): Config {
  const known = new Set(rigSchema.shape.family.unwrap().options as readonly string[]);
  return {
    ...config,
    // A demo floor: rows of two racks of six, so the floor map shows its layout.
    rigs: [
      ...(config.emulator.alongside_rigs ? config.rigs : []),
      ...rigs.map((r, i) =>
        rigSchema.parse({
          name: r.name,
          address: r.address,
          family: known.has(r.family) ? r.family : 'auto',
          tags: { emulated: 'true' },
          location: {
            row: String.fromCharCode(65 + Math.floor(i / 12)),
            rack: `r${String((Math.floor(i / 6) % 2) + 1).padStart(2, '0')}`,
            slot: (i % 6) + 1,
          },
        }),
      ),
    ],
  };
}

export function emulatorWanted(config: Config): boolean {
  return config.emulator.mode === 'on' || (config.emulator.mode === 'auto' && config.rigs.length === 0);
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const { io } = opts;
  let checked: Config | undefined;
  if (opts.configFile) {
    // The same checks as `rigtel config check` (it also refuses a file that is not a mapping, which
    // loadConfig would take as an empty config and so start the demo fleet). Its config is the one we run: a
    // second read and validation took ~0.2 s of start-up with 10,000 rigs.
    const check = checkConfigFile(opts.configFile, io.env);
    if (!check.ok) {
      io.err(check.text);
      return 2;
    }
    checked = check.config;
  }
  let config = checked ?? loadConfig(opts.configFile, io.env);
  tuneHeapGrowth();
  const log = createLogger(config.log.level, { base: { site: config.site.name }, stderr: true });
  if (!youngGenerationSized())
    log.info(
      { flag: YOUNG_GENERATION_FLAG },
      'node was started without a semi-space size: its young generation may hold ~24 MB more than with the flag (the rigtel command, npm start and the Docker image pass it)',
    );
  const stack: Array<{ name: string; close: () => Promise<void> | void }> = [];
  const closeAll = async () => {
    for (const item of stack.reverse()) {
      try {
        await item.close();
      } catch (err) {
        log.error({ err }, `closing ${item.name} failed`);
      }
    }
    stack.length = 0;
  };

  // The built-in demo records fixed demo market values; a configured site calls only what it lists.
  let demoMarket = false;
  try {
    // One owner per storage dir, checked before anything starts (the collector releases it on stop).
    let dirLock: DirLock | undefined;
    try {
      mkdirSync(config.storage.dir, { recursive: true });
      dirLock = lockDir(config.storage.dir);
    } catch (err) {
      // A dir that cannot be made or locked: the collector reports it with the journal's named error.
      if (StorageErrors.locked.is(err)) throw err;
    }
    if (dirLock) stack.push({ name: 'storage lock', close: () => dirLock.release() });
    if (emulatorWanted(config)) {
      const fleet = await startEmulatedFleet({
        count: config.emulator.rigs,
        host: config.emulator.host,
        basePort: config.emulator.base_port,
      });
      stack.push({ name: 'emulated fleet', close: () => fleet.stop() });
      const demo = config.rigs.length === 0;
      // Emulated samples stay out of real databases unless asked (emulator.write_sinks).
      const real = [
        config.sinks.influx?.enabled ? 'influx' : null,
        config.sinks.mqtt?.enabled ? 'mqtt' : null,
      ].filter((n) => n !== null);
      if (real.length > 0 && !config.emulator.write_sinks) {
        config = {
          ...config,
          sinks: {
            ...config.sinks,
            ...(config.sinks.influx ? { influx: { ...config.sinks.influx, enabled: false } } : {}),
            ...(config.sinks.mqtt ? { mqtt: { ...config.sinks.mqtt, enabled: false } } : {}),
          },
        };
        io.out(
          `emulated fleet: not writing to the configured ${real.join(' and ')} sink(s) (set emulator.write_sinks: true to)\n`,
        );
      }
      demoMarket = demo;
      config = withEmulatedRigs(config, fleet.rigs);
      if (demo) {
        // The demo polls faster than real miners need, so a newcomer sees figures move within seconds.
        const interval = config.emulator.interval_ms;
        config = {
          ...config,
          poll: {
            ...config.poll,
            interval_ms: interval,
            poll_deadline_ms: Math.min(config.poll.poll_deadline_ms, interval - 500),
          },
        };
      }
      io.out(
        `emulated fleet: ${fleet.rigs.length} rigs on ${config.emulator.host}:${config.emulator.base_port}+\n`,
      );
      if (config.snmp.devices.length === 0) {
        // Half the demo rigs hang on an emulated APC PDU, so the demo shows metered (pdu) power beside the
        // miners' own and estimated figures.
        const metered = fleet.rigs.slice(0, Math.ceil(fleet.rigs.length / 2));
        // Each outlet draws about its rig model's nominal power, so metered figures look like the rig's own.
        const nominal = metered.map(
          (r) => lookupModel(loadPersonality(r.personality).model)?.power_w ?? 3250,
        );
        const pdu = await startEmulatedPdu({
          host: config.emulator.host,
          outlets: metered.length,
          baseWatts: (outlet) => nominal[outlet - 1] ?? 3250,
        });
        stack.push({ name: 'emulated PDU', close: () => pdu.close() });
        config = {
          ...config,
          snmp: demoSnmpSection({ port: pdu.port, host: config.emulator.host }, metered),
        };
        io.out(
          `emulated PDU: ${metered.length} metered outlets on udp ${config.emulator.host}:${pdu.port}\n`,
        );
      }
    }

    // Metered power from PDUs, when any are configured: the collector prefers it over the miner's own figure.
    let meter: PowerMeter | undefined;
    let powerDevices: (() => DeviceStatus[]) | undefined;
    if (config.snmp.devices.length > 0) {
      const snmp = startSnmpPoller(config, { log });
      stack.push({ name: 'snmp poller', close: () => snmp.stop() });
      meter = snmp.meter;
      powerDevices = () => snmp.status();
    }
    // Several collectors per site: this one polls the rigs rendezvous hashing gives its shard.
    const shard = resolveShard(config.collector.shard, hostname());
    const targets = ownTargets(targetsFromConfig(config), shard);
    if (shard.count > 1)
      log.info(
        { shard: shard.index, of: shard.count, rigs: targets.length, configured: config.rigs.length },
        'polling this shard of the site',
      );
    // Polls run in worker threads unless collector.poll_workers is 0.
    const workers =
      config.collector.poll_workers === 'auto' ? defaultPollWorkers() : config.collector.poll_workers;
    let pollDriverFor = driverFor;
    if (workers > 0) {
      const pool = new PollWorkerPool({
        size: workers,
        deadlineMs: config.poll.poll_deadline_ms,
        familyOf: (f) => driverFor(f).family,
        log,
      });
      stack.push({ name: 'poll workers', close: () => pool.close() });
      await pool.ready();
      pollDriverFor = (f) => pool.driverFor(f);
      log.info({ workers }, 'polling in worker threads');
    }
    const collector = await startCollector(config, targets, {
      log,
      driverFor: pollDriverFor,
      ...(dirLock ? { dirLock } : {}),
      estimatePowerW,
      ...(meter ? { meter } : {}),
      storeWrites: workers > 0 ? 'thread' : 'inline',
      // Polls start once the API is up: building it (plugins, schemas) holds the event loop for a few hundred
      // milliseconds at start-up, which would otherwise delay the first polls.
      autoStart: false,
    });
    stack.push({ name: 'collector', close: () => collector.stop() });

    // Market inputs on their own timers, in <storage.dir>/market.sqlite: a provider outage never blocks polls.
    const market = marketFromConfig(config, { log, demo: demoMarket });
    market.start();
    stack.push({
      name: 'market',
      close: () => {
        market.stop();
        market.store.close();
      },
    });
    const economics = {
      market,
      rollups: collector.store,
      settings: economicsSettings(config, config.poll.interval_ms, demoMarket),
      // Rack by where each rig id was polled in the period (the store's `rig_places`), so hours of an id no
      // longer live (hardware swapped at its address) stay with their rack.
      meta: rigMetaFrom(collector.fleet, config, collector.store),
    };

    // Scheduled rescans: identified rigs the config does not list are polled from the next round on.
    const rescans = scheduleRescans(config.discovery, {
      onReport: (report) => {
        const unknown = report.results.filter((r) => r.status === 'unidentified');
        if (unknown.length)
          log.warn(
            { hosts: unknown.map((r) => addressKey({ host: r.ip, port: r.port })) },
            'rescan: hosts answered but could not be identified',
          );
        if (!config.discovery.adopt) return;
        const known = new Set(collector.fleet.list().map((r) => r.address));
        collector.addTargets(ownTargets(targetsFromScan(report, known, config), shard));
      },
      onError: (err) => log.error({ code: errorCode(err), err: errorMessage(err) }, 'rescan failed'),
    });
    stack.push({ name: 'rescans', close: () => rescans.stop() });

    // The collector's one alert engine: its events go to the log here (one line per change up to a budget, then
    // a digest a minute: never a line per rig per poll), to MQTT when configured, and the API lists its alerts.
    const alertLog = new AlertLog(log, { active: () => collector.alerts.active() });
    alertLog.start();
    stack.push({ name: 'alert log', close: async () => alertLog.stop() });
    collector.alerts.onEvent((event) => {
      alertLog.event(event);
    });

    // Loans: pledged-vs-seen on every poll (alerts and audit entries on change), reports for the API.
    let loans: LoanService | undefined;
    if (config.loans.facilities.length > 0 || config.loans.loans_dir) {
      const service = new LoanService({
        config,
        store: collector.store,
        alerts: collector.alerts,
        market: { store: market.store, feesValidMs: config.market.fees_valid_ms },
        ...(opts.configFile ? { baseDir: dirname(opts.configFile) } : {}),
      });
      loans = service;
      stack.push({ name: 'loans', close: () => service.close() });
      // Pledge alerts are raised on the collector's one engine: they join /v1/alerts, the alert log and, when the
      // MQTT sink runs, its alerts topics, through the engine's listeners.
      collector.onSample((sample) => {
        service.observe(sample);
      });
      io.out(
        `loans: ${service.facilities.length} facilities, signing key ${service.key.fingerprint.slice(0, 16)}…\n`,
      );
    }

    let app: FastifyInstance | undefined;
    if (config.api.enabled) {
      const tokens = new TokenStore(config.storage.dir);
      // No token, no network: without tokens the API stays on loopback.
      assertListenAllowed(splitAddress(config.api.listen, 8080).host, config.api.listen, tokens);
      const h = collector.health;
      // HealthView has no journal figures; add the collector's journal pressure for /v1/status and /healthz.
      const health = {
        started_ms: h.started_ms,
        sinks: () => h.sinks(),
        polling: () => h.polling(),
        journal: () => collector.journal.pressure(),
      };
      app = buildApp({
        fleet: collector.fleet,
        history: collector.history,
        health,
        config,
        log,
        alerts: () => collector.alerts.active(),
        onSample: (fn) => collector.onSample(fn),
        pollNow: (address) => collector.pollNow(address),
        economics,
        ...(powerDevices ? { powerDevices } : {}),
        tokens,
        ...(loans ? { loans } : {}),
      });
      const { host, port } = splitAddress(config.api.listen, 8080);
      try {
        // Plugins load first (the floor page reads web/ here): their failure is not a listen problem.
        await app.ready();
      } catch (err) {
        await app.close();
        throw err;
      }
      try {
        await app.listen({ host, port });
      } catch (err) {
        await app.close();
        throw CliErrors.listen.with(
          { cause: err },
          config.api.listen,
          (err as NodeJS.ErrnoException).code ?? String(err),
        );
      }
      // Close the API first so no request reads a collector that is shutting down.
      stack.push({ name: 'api', close: () => app!.close() });
      const addr = app.server.address();
      const base =
        addr && typeof addr === 'object'
          ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
          : `http://${config.api.listen}`;
      io.out(
        `rigtel ${config.site.name}: polling ${config.rigs.length} rigs every ${config.poll.interval_ms / 1000} s\n` +
          `  page     ${base}/   (the floor view: which rig is hot, down or underperforming)\n` +
          `  API      ${base}/v1/fleet   ${base}/v1/rigs   ${base}/v1/alerts   ${base}/v1/status\n` +
          `  health   ${base}/healthz\n` +
          `  storage  ${config.storage.dir}\n` +
          'Ctrl-C to stop.\n',
      );
    } else io.out(`rigtel ${config.site.name}: polling ${config.rigs.length} rigs (API disabled)\n`);
    collector.start();

    const every = opts.liveEveryMs ?? 5000;
    const timer =
      every > 0
        ? setInterval(
            () => io.out(`${liveLine(collector.fleet)}${journalNote(collector.journal.pressure())}\n`),
            every,
          ).unref()
        : undefined;

    const stopping = await waitForStop(opts.signal);
    if (timer) clearInterval(timer);
    // From here on a further SIGTERM/SIGINT is logged and ignored (a second Ctrl-C must not cut the flush short);
    // only the hard deadline ends a shutdown that hangs, and it says what the journal still holds.
    const deadlineMs = config.shutdown.deadline_ms;
    const onAgain = (sig: NodeJS.Signals) =>
      log.warn({ signal: sig, deadline_ms: deadlineMs }, `${sig} while stopping: ignored, still flushing`);
    process.on('SIGINT', onAgain);
    process.on('SIGTERM', onAgain);
    const hard = setTimeout(() => {
      const p = collector.journal.pressure();
      const left =
        p.oldest_unacked_seq === null
          ? 'every journal entry was delivered'
          : `journal entries from seq ${p.oldest_unacked_seq} on are not yet delivered to every sink (${p.entries} entries kept on disk; they are sent on the next start)`;
      const message = `stop deadline of ${deadlineMs} ms passed; exiting without finishing shutdown: ${left}`;
      log.error({ code: 'RT_ERR_STOP_DEADLINE', journal: p }, message);
      io.err(`${message}\n`);
      (opts.exit ?? process.exit)(EXIT_STOP_DEADLINE);
    }, deadlineMs);
    hard.unref();
    try {
      io.out(`stopping (${stopping}): closing the API, aborting in-flight polls, closing the store…\n`);
      await closeAll();
    } finally {
      clearTimeout(hard);
      process.off('SIGINT', onAgain);
      process.off('SIGTERM', onAgain);
    }
    io.out('stopped\n');
    return 0;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** `12:00:05  mining 20/24 (error 1, offline 1, sleeping 2) · 2310.50 TH/s · 75.30 kW (pdu 0, miner 20, estimate 2, none 0)` */
export function liveLine(fleet: FleetView): string {
  const f = summarizeFleet(fleet.list(), { belowShare: 0.9, hottest: 0, belowLimit: 0 });
  const st = f.states;
  const kw = f.power_kw === null ? '- kW' : `${f.power_kw.toFixed(2)} kW`;
  const s = f.power_sources;
  const time = new Date().toISOString().slice(11, 19);
  // Each state counted apart: a rig in error answers but does not hash, so it is not "up".
  const others = (['error', 'offline', 'sleeping', 'curtailed', 'ramping'] as const)
    .filter((k) => st[k] > 0)
    .map((k) => `${k} ${st[k]}`);
  return `${time}  mining ${st.mining}/${f.rigs}${others.length ? ` (${others.join(', ')})` : ''} · ${f.hashrate_ths === null ? '-' : f.hashrate_ths.toFixed(2)} TH/s · ${kw} (pdu ${s.pdu}, miner ${s.miner}, estimate ${s.estimate}, none ${s.none})`;
}

/** Resolves with what asked for the stop: a signal name, or `abort`. */
/** What the live line adds when samples are being lost: nothing while the journal writes. */
export function journalNote(p: {
  write_error: { code: string } | null;
  write_lost_samples: number;
  disk_low: boolean;
  disk_free_bytes: number | null;
}): string {
  const parts: string[] = [];
  if (p.write_error) {
    parts.push(`JOURNAL CANNOT WRITE (${p.write_error.code}): ${p.write_lost_samples} samples lost`);
  } else if (p.write_lost_samples > 0) parts.push(`journal: ${p.write_lost_samples} samples lost earlier`);
  if (p.disk_low) parts.push(`disk low: ${Math.round((p.disk_free_bytes ?? 0) / 1048576)} MB free`);
  return parts.length ? ` · ${parts.join(' · ')}` : '';
}

function waitForStop(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onSignal = (sig: NodeJS.Signals) => done(sig);
    const onAbort = () => done('abort');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The shard this process is: a number from the config, or the host name's trailing number. */
export function resolveShard(cfg: { index: number | 'hostname'; count: number }, host: string): Shard {
  if (cfg.index !== 'hostname') return { index: cfg.index, count: cfg.count };
  const index = shardIndexFromHostname(host);
  if (index === null || index >= cfg.count)
    throw CliErrors.shardIndex(
      index === null
        ? `host name ${JSON.stringify(host)} has no trailing -N`
        : `${index} ≥ count ${cfg.count}`,
    );
  return { index, count: cfg.count };
}
