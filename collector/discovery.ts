/**
 * Network discovery (`rigtel scan`, scheduled rescans). Two stages:
 *  1. a bounded TCP connect probe over every ip:port of the ranges (open / refused / no answer);
 *  2. identification of the hosts that accepted (cgminer `version`/`devdetails`, else HTTP) with
 *     protocols/identify.ts.
 * A host that accepts but cannot be identified is listed as `unidentified`, never dropped. A connect probe that
 * times out is retried at lower concurrency with a longer timeout, because on a busy network (or a busy
 * scanner) a timeout may be our own overload, not an absent host: the scan must never miss a rig.
 */
import { setMaxListeners } from 'node:events';
import net from 'node:net';
import { errorCode, RtError } from '../lib/errors.js';
import type { Secret } from '../lib/secret.js';
import { readSystemInfo } from '../protocols/antminer-web/system-info.js';
import { detectFamily } from '../protocols/identify.js';
import { lookupModel } from '../protocols/models.js';
import type { Family } from '../protocols/sample.js';
import { DiscoveryErrors } from './errors.js';

export { DiscoveryErrors };

export const DEFAULT_SCAN_PORTS = [4028, 80, 4433] as const;
/** Largest scan without `force`: a /16. */
export const MAX_SCAN_ADDRESSES = 65_536;
/** Largest scan even with `force`: a /12 (a whole RFC 1918 172.16/12 block). Checked before anything is allocated. */
export const HARD_MAX_SCAN_ADDRESSES = 2 ** 20;

/** Address blocks a scan may reach without `allowPublic`: RFC 1918, loopback, link-local (RFC 3927), CGNAT (RFC 6598). */
export const LOCAL_BLOCKS = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '100.64.0.0/10',
];

function ipToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface IpRange {
  text: string;
  first: number;
  /** Inclusive. */
  last: number;
}

/**
 * `10.0.0.0/22` → hosts 10.0.0.1 … 10.0.3.254 (network and broadcast left out for prefixes up to /30);
 * `10.0.0.7` → that address. Host bits set in a CIDR (`10.0.0.5/24`) are a typo more often than not: refused.
 */
export function parseCidr(text: string): IpRange {
  const t = text.trim();
  const m = /^([\d.]+)(?:\/(\d{1,2}))?$/.exec(t);
  if (!m) throw DiscoveryErrors.badRange(text, 'expected a.b.c.d or a.b.c.d/prefix (IPv4)');
  const base = ipToInt(m[1]!);
  if (base === null) throw DiscoveryErrors.badRange(text, `"${m[1]}" is not an IPv4 address`);
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  if (prefix > 32) throw DiscoveryErrors.badRange(text, `prefix /${prefix} is larger than /32`);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    throw DiscoveryErrors.badRange(
      text,
      `host bits are set; the block starts at ${intToIp(base - (base % size))}`,
    );
  }
  if (prefix >= 31) return { text: t, first: base, last: base + size - 1 };
  return { text: t, first: base + 1, last: base + size - 2 };
}

/** True when every address of `r` lies in one of LOCAL_BLOCKS. */
export function isLocalRange(r: IpRange): boolean {
  return LOCAL_BLOCKS.some((b) => {
    const block = parseCidr(b);
    const size = block.last - block.first + 1;
    // parseCidr leaves out network/broadcast; the block's true bounds are one either side.
    const lo = size >= 4 ? block.first - 1 : block.first;
    const hi = size >= 4 ? block.last + 1 : block.last;
    return r.first >= lo && r.last <= hi;
  });
}

/** The ranges (as written) that reach beyond LOCAL_BLOCKS. Throws on a malformed range. */
export function publicRanges(cidrs: string[]): string[] {
  return cidrs.filter((c) => !isLocalRange(parseCidr(c)));
}

/**
 * Refuse a scan before any socket or list exists: bad ranges, more addresses than allowed (a hard cap even with
 * `force`), and public addresses unless `allowPublic`. Returns the public ranges that were allowed, to warn about.
 */
export function checkScanTargets(
  cidrs: string[],
  opts: { force?: boolean | undefined; allowPublic?: boolean | undefined; max?: number } = {},
): { addresses: number; publicRanges: string[] } {
  if (cidrs.length === 0) throw DiscoveryErrors.badRange('', 'no range given');
  const ranges = cidrs.map(parseCidr);
  const total = ranges.reduce((t, r) => t + (r.last - r.first + 1), 0);
  const max = opts.max ?? MAX_SCAN_ADDRESSES;
  if (total > HARD_MAX_SCAN_ADDRESSES)
    throw DiscoveryErrors.rangeLimit(cidrs.join(' '), total, HARD_MAX_SCAN_ADDRESSES);
  if (total > max && !opts.force) throw DiscoveryErrors.rangeTooLarge(cidrs.join(' '), total, max);
  const pub = publicRanges(cidrs);
  if (pub.length > 0 && !opts.allowPublic) throw DiscoveryErrors.publicTarget(pub.join(' '));
  return { addresses: total, publicRanges: pub };
}

/** Every address of the ranges, deduplicated, in order. Throws on a bad range or a scan larger than allowed. */
export function expandRanges(cidrs: string[], force = false, max = MAX_SCAN_ADDRESSES): string[] {
  if (cidrs.length === 0) throw DiscoveryErrors.badRange('', 'no range given');
  const ranges = cidrs.map(parseCidr);
  const total = ranges.reduce((t, r) => t + (r.last - r.first + 1), 0);
  if (total > HARD_MAX_SCAN_ADDRESSES)
    throw DiscoveryErrors.rangeLimit(cidrs.join(' '), total, HARD_MAX_SCAN_ADDRESSES);
  if (total > max && !force) throw DiscoveryErrors.rangeTooLarge(cidrs.join(' '), total, max);
  const seen = new Set<number>();
  const out: string[] = [];
  for (const r of ranges) {
    for (let n = r.first; n <= r.last; n++) {
      if (seen.has(n)) continue;
      seen.add(n);
      out.push(intToIp(n));
    }
  }
  return out;
}

export function parsePorts(text: string): number[] {
  const port = (p: string, whole: string) => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 65_535) throw DiscoveryErrors.badPort(whole);
    return n;
  };
  const ports = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .flatMap((p) => {
      // `47100-47123`: every port of the range, both ends included.
      const range = /^(\d+)\s*-\s*(\d+)$/.exec(p);
      if (!range) return [port(p, p)];
      const from = port(range[1]!, p);
      const to = port(range[2]!, p);
      if (to < from) throw DiscoveryErrors.badPort(p);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
  if (ports.length === 0) throw DiscoveryErrors.badPort(text);
  return [...new Set(ports)];
}

export type ProbeOutcome = 'open' | 'refused' | 'timeout' | 'unreachable' | 'overload';

/** One TCP connect, closed at once. Never rejects. */
export function probePort(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve('timeout');
      return;
    }
    const socket = net.connect({ host, port });
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(o);
    };
    const onAbort = () => finish('timeout');
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.once('connect', () => finish('open'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') finish('refused');
      // Local resource exhaustion is our problem, not the host's: retried like a timeout.
      else if (
        err.code === 'EMFILE' ||
        err.code === 'ENFILE' ||
        err.code === 'EADDRNOTAVAIL' ||
        err.code === 'ENOBUFS'
      )
        finish('overload');
      else if (err.code === 'ETIMEDOUT') finish('timeout');
      else finish('unreachable');
    });
  });
}

/** Run `work` over `items` with at most `limit` in flight. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export interface ScanProgress {
  stage: 'probe' | 'retry' | 'identify';
  done: number;
  total: number;
  open: number;
}

export interface ScanOptions {
  cidrs: string[];
  ports: number[];
  /** Connect probes in flight at once. */
  concurrency: number;
  connectTimeoutMs: number;
  /** Deadline of one identification command. */
  deadlineMs: number;
  onProgress?: (p: ScanProgress) => void;
  /** Allow ranges larger than a /16 (never more than HARD_MAX_SCAN_ADDRESSES). */
  force?: boolean;
  /** Allow addresses outside LOCAL_BLOCKS (public internet). */
  allowPublic?: boolean;
  /** Retry rounds for probes that timed out (default 2). */
  retries?: number;
  signal?: AbortSignal;
  /** Web port tried for HTTP identification when it is open (default 80). */
  httpPort?: number;
  /**
   * Credentials for the stock Antminer web API: when given and the host's web port is open, serial number and
   * MAC are read from /cgi-bin/get_system_info.cgi (digest auth). Never sent to other families.
   */
  webAuth?: { username: string; password: Secret } | undefined;
}

export type ScanStatus = 'identified' | 'unidentified';

export interface ScanResult {
  ip: string;
  /** The port the identification came from (the first open port when none did). */
  port: number;
  /** Every port that accepted. */
  open_ports: number[];
  mac: string | null;
  make: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  nameplate_ths: number | null;
  family: Family;
  status: ScanStatus;
  confidence: 'high' | 'medium' | 'low';
  evidence: string[];
  /** Error codes met while identifying (timeouts, refusals), for diagnosis. */
  errors: string[];
}

export interface ScanReport {
  results: ScanResult[];
  addresses: number;
  probes: number;
  /** Probes still unanswered after every retry (hosts down or filtered). */
  unanswered: number;
  /** Probes that were asked again (timeouts and local overload). */
  retried: number;
  duration_ms: number;
}

/** Nameplate TH/s from the model table (SHA-256 models only; null when the model is unknown). */
function nameplateOf(model: string | null): number | null {
  const spec = lookupModel(model);
  return spec?.hashrate_ths ?? null;
}

const WEB_PORTS = new Set([80, 8080]);

export async function scanRange(opts: ScanOptions): Promise<ScanReport> {
  const started = performance.now();
  checkScanTargets(opts.cidrs, { force: opts.force, allowPublic: opts.allowPublic });
  const hosts = expandRanges(opts.cidrs, opts.force);
  const ports = [...new Set(opts.ports)];
  if (ports.length === 0) throw DiscoveryErrors.badPort('');
  for (const p of ports)
    if (!Number.isInteger(p) || p < 1 || p > 65_535) throw DiscoveryErrors.badPort(String(p));
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const retries = opts.retries ?? 2;
  // Every probe in flight listens on the one abort signal: that is by design, not a leak.
  if (opts.signal) setMaxListeners(concurrency * 4 + 64, opts.signal);

  // Stage 1: connect probes. A probe that timed out is retried up to `retries` times; one that failed for a
  // local reason (out of sockets/ports: 'overload') is retried until it gets a real answer, at ever lower
  // concurrency, because it says nothing about the host.
  let pending = hosts.flatMap((ip) => ports.map((port) => ({ ip, port, timeouts: 0 })));
  const total = pending.length;
  const open = new Map<string, number[]>();
  let done = 0;
  let openCount = 0;
  let retried = 0;
  let gaveUp = 0;
  let timeoutMs = opts.connectTimeoutMs;
  let limit = concurrency;
  for (let round = 0; pending.length && !opts.signal?.aborted; round++) {
    const stage = round === 0 ? 'probe' : 'retry';
    const again: typeof pending = [];
    let roundDone = 0;
    const roundTotal = pending.length;
    await pool(pending, limit, async (p) => {
      const o = await probePort(p.ip, p.port, timeoutMs, opts.signal);
      if (o === 'open') {
        const list = open.get(p.ip) ?? [];
        list.push(p.port);
        open.set(p.ip, list);
        openCount++;
      } else if (!opts.signal?.aborted) {
        if (o === 'overload' && limit > 1) again.push(p);
        else if ((o === 'timeout' || o === 'overload') && p.timeouts < retries) {
          again.push({ ...p, timeouts: p.timeouts + 1 });
        } else if (o === 'timeout' || o === 'overload') gaveUp++;
      }
      roundDone++;
      if (round === 0) done++;
      opts.onProgress?.({
        stage,
        done: round === 0 ? done : roundDone,
        total: round === 0 ? total : roundTotal,
        open: openCount,
      });
    });
    retried += again.length;
    pending = again;
    // A retry round is gentler: fewer probes in flight, more time each.
    limit = Math.max(1, Math.floor(limit / 4));
    timeoutMs = Math.min(timeoutMs * 2, opts.connectTimeoutMs * 8);
  }
  const unanswered = gaveUp + pending.length;

  // Stage 2: identification, one host at a time per worker (cgminer serves one connection at a time).
  const openHosts = [...open.entries()].map(([ip, list]) => ({
    ip,
    ports: ports.filter((p) => list.includes(p)),
  }));
  let identified = 0;
  const signal = opts.signal ?? new AbortController().signal;
  setMaxListeners(concurrency * 4 + 64, signal);
  const perHost = await pool(openHosts, Math.min(concurrency, 64), async (h) => {
    const found = await identifyHost(h.ip, h.ports, { ...opts, signal });
    for (const r of found) {
      await addWebIdentity(r, opts);
      r.nameplate_ths = nameplateOf(r.model);
    }
    identified++;
    opts.onProgress?.({ stage: 'identify', done: identified, total: openHosts.length, open: openCount });
    return found;
  });
  const results = perHost.flat();
  results.sort((a, b) => (ipToInt(a.ip) ?? 0) - (ipToInt(b.ip) ?? 0) || a.port - b.port);
  return {
    results,
    addresses: hosts.length,
    probes: total,
    unanswered,
    retried,
    duration_ms: Math.round(performance.now() - started),
  };
}

/** Stock Antminer serial and MAC through the web API, when credentials were given and a web port is open. */
async function addWebIdentity(r: ScanResult, opts: ScanOptions): Promise<void> {
  if (!opts.webAuth || r.family !== 'antminer' || r.status !== 'identified') return;
  const httpPort = opts.httpPort ?? 80;
  const web = r.open_ports.find((p) => p === httpPort || WEB_PORTS.has(p));
  if (web === undefined) return;
  try {
    const info = await readSystemInfo(
      {
        host: r.ip,
        port: web,
        username: opts.webAuth.username,
        password: opts.webAuth.password,
        connectTimeoutMs: Math.max(opts.connectTimeoutMs, 500),
        deadlineMs: opts.deadlineMs,
      },
      opts.signal,
    );
    r.serial = info.serial ?? r.serial;
    r.mac = info.mac ?? r.mac;
    r.model ??= info.model;
    r.evidence.push('serial and MAC from /cgi-bin/get_system_info.cgi');
  } catch (err) {
    r.errors.push(errorCode(err));
  }
}

function timedOut(errors: string[]): boolean {
  return errors.some((e) => /TIMEOUT/.test(e));
}

/**
 * Every miner API on one host: distinct API ports are distinct rigs (a rack controller or a port-forwarding
 * gateway serves several rigs on one address). Web ports are tried only when no API port answered.
 */
async function identifyHost(ip: string, openPorts: number[], opts: ScanOptions): Promise<ScanResult[]> {
  const signal = opts.signal ?? new AbortController().signal;
  const httpPort = opts.httpPort ?? 80;
  const apiPorts = openPorts.filter((p) => !WEB_PORTS.has(p) && p !== httpPort);
  const webPorts = openPorts.filter((p) => WEB_PORTS.has(p) || p === httpPort);
  const errors: string[] = [];
  const attempt = async (port: number, deadlineMs: number) => {
    const web = webPorts.includes(port);
    try {
      const d = await detectFamily(ip, port, signal, {
        connectTimeoutMs: Math.max(opts.connectTimeoutMs, 500),
        deadlineMs,
        httpPort: web ? port : httpPort,
        httpFallback: false,
      });
      return d;
    } catch (err) {
      errors.push(err instanceof RtError ? err.code : errorCode(err));
      return null;
    }
  };
  const found: ScanResult[] = [];
  const tryPort = async (port: number): Promise<ScanResult | null> => {
    let d = await attempt(port, opts.deadlineMs);
    if (d && d.family === 'unknown' && timedOut(d.errors) && !signal.aborted) {
      // A slow answer under load is retried once with twice the time before calling the host unidentified.
      d = await attempt(port, opts.deadlineMs * 2);
    }
    if (d && d.family === 'unknown' && !webPorts.includes(port) && !signal.aborted) {
      // No cgminer API here: an HTTP-only miner (Bitaxe) may listen on a non-web port.
      errors.push(...d.errors);
      try {
        d = await detectFamily(ip, port, signal, {
          connectTimeoutMs: Math.max(opts.connectTimeoutMs, 500),
          deadlineMs: opts.deadlineMs,
          httpPort: port,
        });
      } catch (err) {
        errors.push(err instanceof RtError ? err.code : errorCode(err));
        d = null;
      }
    }
    if (!d) return null;
    errors.push(...d.errors);
    if (d.family === 'unknown') return null;
    return {
      ip,
      port,
      open_ports: openPorts,
      mac: d.mac,
      make: d.make,
      model: d.model,
      firmware: d.firmware,
      serial: null,
      nameplate_ths: null,
      family: d.family,
      status: 'identified',
      confidence: d.confidence,
      evidence: d.evidence,
      errors: [...new Set(d.errors)],
    };
  };
  // Port 4433 (Whatsminer API v3) goes the same path: detectFamily tries the families' own handshakes.
  const api = apiPorts;
  // A few ports of one host at once: each port is its own server.
  for (const r of await pool(api, 8, tryPort)) if (r) found.push(r);
  if (found.length === 0) {
    for (const port of webPorts) {
      const r = await tryPort(port);
      if (r) {
        found.push(r);
        break;
      }
    }
  }
  if (found.length > 0) return found;
  const only4433 = openPorts.includes(4433);
  return [
    {
      ip,
      port: openPorts[0]!,
      open_ports: openPorts,
      mac: null,
      make: null,
      model: null,
      firmware: null,
      serial: null,
      nameplate_ths: null,
      family: 'unknown',
      status: 'unidentified',
      confidence: 'low',
      evidence: only4433 ? ['port 4433 open (Whatsminer API v3 listens there)'] : [],
      errors: [...new Set(errors)],
    },
  ];
}

/** The `discovery:` config section (config/sections/discovery.ts), as the scheduler needs it. */
export interface RescanSettings {
  enabled: boolean;
  ranges: string[];
  ports: number[];
  interval_ms: number;
  concurrency: number;
  connect_timeout_ms: number;
  identify_timeout_ms: number;
}

export interface RescanHandle {
  /** Stop the schedule and abort a scan in progress; resolves when it has wound down. */
  stop(): Promise<void>;
}

/**
 * Scheduled rescans: one scan at start, then one every `interval_ms` (never two at once; a scan longer than the
 * interval delays the next). `onReport` gets every report; `onError` every failure (a bad range in the config
 * fails each round with its named error, it does not stop the collector). Disabled or no ranges → a no-op.
 */
export function scheduleRescans(
  settings: RescanSettings,
  handlers: { onReport: (r: ScanReport) => void; onError?: (err: unknown) => void },
): RescanHandle {
  if (!settings.enabled || settings.ranges.length === 0) return { stop: async () => {} };
  const ac = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const round = async () => {
    try {
      const report = await scanRange({
        cidrs: settings.ranges,
        ports: settings.ports,
        concurrency: settings.concurrency,
        connectTimeoutMs: settings.connect_timeout_ms,
        deadlineMs: settings.identify_timeout_ms,
        signal: ac.signal,
      });
      if (!ac.signal.aborted) handlers.onReport(report);
    } catch (err) {
      if (!ac.signal.aborted) handlers.onError?.(err);
    }
    if (!ac.signal.aborted) timer = setTimeout(start, settings.interval_ms);
  };
  const start = () => {
    running = round();
  };
  start();
  return {
    stop: async () => {
      ac.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
