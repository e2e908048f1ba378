/**
 * Polls the configured SNMP devices (PDUs, UPS, sensors, switches) on their own intervals with a global bound
 * on devices in flight and a hard deadline per device poll, keeps the latest reading of every outlet/port, and
 * serves metered power to the miner poll path through `PowerMeter` (collector/power.ts): the collector applies
 * pdu > miner > estimate. A failing device never throws out of here: its status carries the named error.
 */
import { splitAddress } from '../config/schema.js';
import type { SnmpConfig, SnmpDeviceConfig, SnmpMapConfig } from '../config/sections/snmp.js';
import { errorCode, errorMessage, RtError } from '../lib/errors.js';
import { type Logger, silentLogger } from '../lib/log.js';
import { SnmpClient } from '../protocols/snmp/client.js';
import { type Channel, genericProfile, pollDevice } from '../protocols/snmp/device.js';
import { SnmpErrors } from '../protocols/snmp/errors.js';
import { PROFILES, type Profile } from '../protocols/snmp/profiles.js';
import { type EnergyState, stepEnergy } from './energy.js';
import type { MeteredPower, PowerMeter, RigKey } from './power.js';

export interface DeviceStatus {
  name: string;
  address: string;
  profile: string;
  version: 'v2c' | 'v3';
  /** pending: not polled yet. */
  state: 'pending' | 'ok' | 'error';
  last_poll_ms: number | null;
  last_ok_ms: number | null;
  duration_ms: number | null;
  error_code: string | null;
  error_message: string | null;
  polls: number;
  failures: number;
  channels: number;
  /** Optional tables this model does not have. */
  absent_tables: string[];
  /** Agent sysUpTime at the last good poll (s), null when the agent does not serve it. */
  agent_uptime_s: number | null;
}

export interface ChannelReading {
  device: string;
  channel: Channel;
  at_ms: number;
  /** Energy accounted since the poller started (counter deltas with wraps/resets handled, else integrated W). */
  energy: { total_wh: number; covered_ms: number; source: 'counter' | 'integrated' | null };
}

export interface PortState {
  link_up: boolean | null;
  at_ms: number;
  port: string;
}

export interface SnmpPoller {
  meter: PowerMeter;
  status(): DeviceStatus[];
  /** Latest channels of one device (or all), for the API and diagnostics. */
  channels(device?: string): ChannelReading[];
  /** Link state of the switch port mapped to a rig, or null (unmapped or stale). */
  port(rig: RigKey): PortState | null;
  /** Devices being polled now, and the most ever at once (bounded by snmp.concurrency). */
  stats(): { in_flight: number; peak_in_flight: number };
  /** Poll every device once now (waits for a poll already running). For tests and `rigtel snmp check`. */
  pollNow(): Promise<void>;
  stop(): Promise<void>;
}

interface DeviceRuntime {
  cfg: SnmpDeviceConfig;
  profile: Profile;
  client: SnmpClient;
  status: DeviceStatus;
  /** channel id → latest reading */
  latest: Map<string, ChannelReading>;
  /** id / alias / name → reading, per side (outlets and other rows vs switch ports), rebuilt each poll. */
  lookup: { outlet: Map<string, ChannelReading>; port: Map<string, ChannelReading> };
  energy: Map<
    string,
    { state: EnergyState; baseline: number | null; source: 'counter' | 'integrated' | null }
  >;
  running: Promise<void> | null;
  timer: NodeJS.Timeout | null;
  abort: AbortController | null;
}

class Semaphore {
  #free: number;
  #waiting: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

function sectionOf(config: SnmpConfig | { snmp: SnmpConfig }): SnmpConfig {
  return 'snmp' in config ? config.snmp : config;
}

/** Does a mapping's `rig` name this rig? By configured name, rig id, or address (host alone matches any port). */
function rigMatches(target: string, rig: RigKey): boolean {
  if (target === rig.name || target === rig.rig_id || target === rig.address) return true;
  if (!target.includes(':') || target.startsWith('[')) {
    return splitAddress(rig.address).host === target.replace(/^\[|\]$/g, '');
  }
  return false;
}

export function startSnmpPoller(
  config: SnmpConfig | { snmp: SnmpConfig },
  opts: { log?: Logger; now?: () => number } = {},
): SnmpPoller {
  const section = sectionOf(config);
  const log = opts.log ?? silentLogger;
  const now = opts.now ?? Date.now;
  const sem = new Semaphore(section.concurrency);
  let stopped = false;
  let inFlight = 0;
  let peakInFlight = 0;

  const devices = new Map<string, DeviceRuntime>();
  for (const cfg of section.devices) {
    const { host, port } = splitAddress(cfg.address, 161);
    const profile =
      cfg.profile === 'generic'
        ? genericProfile(`generic:${cfg.name}`, cfg.generic?.tables ?? [])
        : PROFILES[cfg.profile]!;
    const client = new SnmpClient({
      host,
      port,
      version: cfg.version,
      community: cfg.community,
      v3: cfg.v3
        ? {
            user: cfg.v3.user,
            level: cfg.v3.level,
            auth_protocol: cfg.v3.auth_protocol,
            auth_key: cfg.v3.auth_key,
            priv_protocol: cfg.v3.priv_protocol,
            priv_key: cfg.v3.priv_key,
            context: cfg.v3.context,
          }
        : undefined,
      timeout_ms: cfg.timeout_ms,
      retries: cfg.retries,
      max_repetitions: cfg.max_repetitions,
    });
    devices.set(cfg.name, {
      cfg,
      profile,
      client,
      status: {
        name: cfg.name,
        address: client.label,
        profile: cfg.profile,
        version: cfg.version,
        state: 'pending',
        last_poll_ms: null,
        last_ok_ms: null,
        duration_ms: null,
        error_code: null,
        error_message: null,
        polls: 0,
        failures: 0,
        channels: 0,
        absent_tables: [],
        agent_uptime_s: null,
      },
      latest: new Map(),
      lookup: { outlet: new Map(), port: new Map() },
      energy: new Map(),
      running: null,
      timer: null,
      abort: null,
    });
  }

  const deadlineOf = (cfg: SnmpDeviceConfig) =>
    cfg.deadline_ms ?? Math.max(100, Math.floor(cfg.interval_ms * 0.8));

  function record(dev: DeviceRuntime, channels: Channel[], at: number, restarted: boolean): void {
    const seen = new Set<string>();
    for (const ch of channels) {
      const key = `${ch.kind}:${ch.id}`;
      seen.add(key);
      const e = dev.energy.get(key);
      const step = stepEnergy(
        e?.state ?? null,
        { at_ms: at, watts: ch.values.power_w, counter_wh: ch.values.energy_wh, agent_restarted: restarted },
        { max_gap_ms: 2.5 * dev.cfg.interval_ms, wrap_wh: ch.energy_wrap_wh },
      );
      let baseline = e?.baseline ?? null;
      if (baseline === null && ch.values.energy_wh !== null && step.event === 'start')
        baseline = ch.values.energy_wh;
      const source =
        step.event === 'counter' || step.event === 'wrap'
          ? 'counter'
          : step.event === 'integrated'
            ? 'integrated'
            : (e?.source ?? null);
      dev.energy.set(key, { state: step.state, baseline, source });
      dev.latest.set(key, {
        device: dev.cfg.name,
        channel: ch,
        at_ms: at,
        energy: { total_wh: step.state.total_wh, covered_ms: step.state.covered_ms, source },
      });
    }
    // Rows that disappeared (outlet removed, unit unplugged) stop being served rather than going stale silently.
    for (const key of dev.latest.keys()) if (!seen.has(key)) dev.latest.delete(key);
    // Index by id first, then aliases, then names, so an id always wins over a same-looking name.
    const lookup = { outlet: new Map<string, ChannelReading>(), port: new Map<string, ChannelReading>() };
    const rows = [...dev.latest.values()];
    for (const pick of [
      (c: Channel) => [c.id],
      (c: Channel) => c.aliases,
      (c: Channel) => (c.name ? [c.name] : []),
    ]) {
      for (const r of rows) {
        const side = r.channel.kind === 'port' ? lookup.port : lookup.outlet;
        for (const k of pick(r.channel)) if (!side.has(k)) side.set(k, r);
      }
    }
    dev.lookup = lookup;
  }

  async function pollOne(dev: DeviceRuntime): Promise<void> {
    const release = await sem.acquire();
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const started = now();
    const t0 = performance.now();
    const deadline = deadlineOf(dev.cfg);
    const abort = new AbortController();
    dev.abort = abort;
    const timer = setTimeout(() => abort.abort(SnmpErrors.deadline(dev.client.label, deadline)), deadline);
    try {
      if (stopped) return;
      const reading = await pollDevice(dev.client, dev.profile, abort.signal);
      const prevUp = dev.status.agent_uptime_s;
      const restarted = prevUp !== null && reading.uptime_s !== null && reading.uptime_s < prevUp;
      if (restarted) log.info({ device: dev.cfg.name }, 'SNMP agent restarted (sysUpTime went down)');
      record(dev, reading.channels, started, restarted);
      const wasError = dev.status.state === 'error';
      Object.assign(dev.status, {
        agent_uptime_s: reading.uptime_s,
        state: 'ok',
        last_ok_ms: started,
        error_code: null,
        error_message: null,
        channels: reading.channels.length,
        absent_tables: reading.absent,
      });
      if (wasError) log.info({ device: dev.cfg.name }, 'SNMP device answers again');
    } catch (err) {
      const rt = err instanceof RtError ? err : SnmpErrors.badReply(dev.client.label, errorMessage(err));
      const changed = dev.status.error_code !== rt.code;
      Object.assign(dev.status, {
        state: 'error',
        error_code: errorCode(rt),
        error_message: rt.message,
      });
      dev.status.failures++;
      if (changed && !stopped) log.warn({ device: dev.cfg.name, code: rt.code }, rt.message);
    } finally {
      clearTimeout(timer);
      dev.abort = null;
      dev.status.polls++;
      dev.status.last_poll_ms = started;
      dev.status.duration_ms = Math.round(performance.now() - t0);
      inFlight--;
      release();
    }
  }

  function runDevice(dev: DeviceRuntime): Promise<void> {
    if (!dev.running) {
      dev.running = pollOne(dev).finally(() => {
        dev.running = null;
      });
    }
    return dev.running;
  }

  function schedule(dev: DeviceRuntime, delay: number): void {
    if (stopped) return;
    dev.timer = setTimeout(async () => {
      const t = now();
      await runDevice(dev);
      // Keep cadence from the start of the poll; never overlap polls of the same agent.
      schedule(dev, Math.max(0, dev.cfg.interval_ms - (now() - t)));
    }, delay);
    // The poller alone must not keep the process alive.
    dev.timer.unref();
  }

  // Spread first polls a little so many PDUs do not all answer in the same instant.
  let i = 0;
  for (const dev of devices.values()) schedule(dev, Math.min(1000, i++ * 25));

  // Mappings indexed by their `rig` text; a rig is looked up by name, id, address and bare host.
  const byRig = new Map<string, SnmpMapConfig[]>();
  for (const m of section.map) {
    const key = m.rig.replace(/^\[([^\]]+)\]$/, '$1');
    byRig.set(key, [...(byRig.get(key) ?? []), m]);
  }

  function mappingsFor(rig: RigKey): SnmpMapConfig[] {
    const found = new Set<SnmpMapConfig>();
    const keys = [rig.name, rig.rig_id, rig.address, splitAddress(rig.address).host];
    for (const k of keys) {
      if (!k) continue;
      for (const m of byRig.get(k) ?? []) if (rigMatches(m.rig, rig)) found.add(m);
    }
    return [...found];
  }

  function mappedChannels(
    rig: RigKey,
    kind: 'outlet' | 'port',
  ): Array<{ dev: DeviceRuntime; reading: ChannelReading | null; want: string }> {
    const out: Array<{ dev: DeviceRuntime; reading: ChannelReading | null; want: string }> = [];
    for (const m of mappingsFor(rig)) {
      const want = kind === 'outlet' ? m.outlet : m.port;
      if (want === undefined) continue;
      const dev = devices.get(m.device);
      if (!dev) continue;
      const w = String(want);
      out.push({ dev, reading: dev.lookup[kind].get(w) ?? null, want: w });
    }
    return out;
  }

  const fresh = (dev: DeviceRuntime, r: ChannelReading | null) =>
    r !== null && now() - r.at_ms <= 2 * dev.cfg.interval_ms;

  const meter: PowerMeter = {
    reading(rig: RigKey): MeteredPower | null {
      const list = mappedChannels(rig, 'outlet');
      if (list.length === 0) return null;
      let watts = 0;
      let energy: number | null = 0;
      let at = Number.POSITIVE_INFINITY;
      const labels: string[] = [];
      for (const { dev, reading, want } of list) {
        // A rig on two outlets: a partial sum would understate its power, so all must be fresh.
        if (!fresh(dev, reading) || reading!.channel.values.power_w === null) return null;
        const r = reading!;
        watts += r.channel.values.power_w!;
        const key = `${r.channel.kind}:${r.channel.id}`;
        const e = dev.energy.get(key);
        // Counter-based cumulative energy, continued across wraps and resets; null without a counter.
        if (energy !== null && e && e.baseline !== null && r.channel.values.energy_wh !== null) {
          energy += e.baseline + e.state.total_wh;
        } else energy = null;
        at = Math.min(at, r.at_ms);
        labels.push(
          `${dev.cfg.name} outlet ${r.channel.name && r.channel.name !== want ? `${want} (${r.channel.name})` : want}`,
        );
      }
      return {
        watts: Math.round(watts * 1000) / 1000,
        energy_wh: energy,
        at_ms: at,
        meter: labels.join(' + '),
      };
    },
  };

  return {
    meter,
    status: () =>
      [...devices.values()].map((d) => ({ ...d.status, absent_tables: [...d.status.absent_tables] })),
    channels(device?: string) {
      const out: ChannelReading[] = [];
      for (const d of devices.values()) if (!device || d.cfg.name === device) out.push(...d.latest.values());
      return out;
    },
    port(rig: RigKey): PortState | null {
      const list = mappedChannels(rig, 'port');
      for (const { dev, reading, want } of list) {
        if (fresh(dev, reading))
          return {
            link_up: reading!.channel.values.link_up,
            at_ms: reading!.at_ms,
            port: `${dev.cfg.name} port ${want}`,
          };
      }
      return null;
    },
    stats: () => ({ in_flight: inFlight, peak_in_flight: peakInFlight }),
    async pollNow() {
      await Promise.all([...devices.values()].map((d) => runDevice(d)));
    },
    async stop() {
      stopped = true;
      for (const d of devices.values()) {
        if (d.timer) clearTimeout(d.timer);
        d.abort?.abort(SnmpErrors.aborted(d.client.label));
      }
      await Promise.allSettled([...devices.values()].map((d) => d.running));
      for (const d of devices.values()) d.client.close();
    },
  };
}
