/**
 * One emulated rig: a loopback TCP server that speaks its personality's protocol (cgminer 4028 style,
 * Whatsminer v3 length-framed, or Bitaxe HTTP), replays real replies with moving figures, and can misbehave on
 * demand the way real miners and networks do (fault modes below), so the client is tested against the wire,
 * not against mocks.
 *
 * Like cgminer: read until the request is complete (a closed JSON object, or whatever bytes a text-mode client
 * sent), answer once, then close. Unlike cgminer the emulator serves connections in parallel (a real miner's
 * serial accept loop is not modelled) and drops a connection that sends nothing for `idleTimeoutMs`.
 */
import net from 'node:net';
import type { Family } from '../sample.js';
import { answerHttp, httpRequestComplete } from './bitaxe-http.js';
import { answerRequest, parseRequest, requestComplete } from './cgminer.js';
import { EmuErrors } from './errors.js';
import { checkLatency, drawLatencyMs, type LatencyOptions } from './latency.js';
import { type EmuProtocol, loadPersonality, type Personality } from './personalities.js';
import { RigDynamics, seededRandom, type VaryBase, varyText } from './vary.js';
import { answerV3, v3RequestComplete } from './whatsminer-v3.js';

/**
 * - none: answer normally
 * - hang: accept, read the request, never answer, keep the socket open
 * - drip: answer one byte every `dripIntervalMs`
 * - reset: send half the reply, then RST (ECONNRESET at the client)
 * - garbage: random bytes, then a NUL
 * - oversize: stream `oversizeBytes` (8 MiB) without a NUL, then close
 * - refuse: stop listening (ECONNREFUSED); any other mode listens again on the same port
 * - empty: accept, then close without a byte (the api-allow refusal, docs/protocols.md "cgminer API framing")
 * - slow: answer after `slowDelayMs`
 */
export type FaultMode =
  | 'none'
  | 'hang'
  | 'drip'
  | 'reset'
  | 'garbage'
  | 'oversize'
  | 'refuse'
  | 'empty'
  | 'slow';

export const FAULT_MODES: readonly FaultMode[] = [
  'none',
  'hang',
  'drip',
  'reset',
  'garbage',
  'oversize',
  'refuse',
  'empty',
  'slow',
];

export interface FaultOptions {
  dripIntervalMs?: number;
  slowDelayMs?: number;
  oversizeBytes?: number;
}

export interface StartRigOptions {
  personality: string;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  seed?: number;
  fault?: FaultMode;
  faultOptions?: FaultOptions;
  /** Rig name (default: the personality name). */
  name?: string;
  /** Clock for the moving figures (ms since epoch); tests pass a fake one for byte-exact determinism. */
  now?: () => number;
  /** Chance per reply that the rig reboots first (default 0: only `reboot()`). */
  rebootProbability?: number;
  /** Close a connection whose request is not complete this long after connect (default 10 s, as Whatsminer, §3.2). */
  idleTimeoutMs?: number;
  /** After the reply is sent, how long a client may keep its side open before the socket is destroyed (5 s). */
  lingerMs?: number;
  /**
   * Serve one connection at a time, like cgminer's serial accept loop (docs/protocols.md "cgminer API framing"): a client that
   * connects and sends nothing, or a hung reply, holds up every other client. Default false (parallel).
   */
  serial?: boolean;
  /** Added delay before each reply (per connection), seeded; none by default (loopback speed). */
  latency?: LatencyOptions;
}

export interface RigStats {
  connections: number;
  /** Connections open right now. */
  open: number;
  /** Commands answered (each part of a join counts). */
  commands: number;
  byCommand: Record<string, number>;
}

export interface EmulatedRig {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `host:port` (`[::1]:port` for IPv6). */
  readonly address: string;
  readonly family: Family;
  readonly personality: string;
  readonly protocol: EmuProtocol;
  readonly fault: FaultMode;
  /** Change the fault mode; resolves once listening state matches (refuse ↔ listening). */
  setFault(mode: FaultMode, options?: FaultOptions): Promise<void>;
  /** Change the added reply latency (null: none) for requests completed from now on. */
  setLatency(latency: LatencyOptions | null): void;
  /**
   * Restart the emulated miner: Elapsed and share counters start from 0. With `downtimeMs` the rig first drops
   * its connections and refuses new ones for that long (a power cycle); the promise resolves once it is back.
   */
  reboot(downtimeMs?: number): Promise<void>;
  stats(): RigStats;
  close(): Promise<void>;
}

interface Adapter {
  complete(buf: Buffer): boolean;
  respond(buf: Buffer, vary: (text: string) => string): { bytes: Buffer; commands: string[] };
}

const NUL = Buffer.from([0]);

function adapterFor(p: Personality): Adapter {
  switch (p.protocol) {
    case 'cgminer':
      return {
        complete: requestComplete,
        respond: (buf, vary) => {
          const a = answerRequest(p, parseRequest(buf), { vary });
          // Every cgminer reply ends with one NUL byte (api.c: tosend = len + 1), then the socket closes.
          return { bytes: Buffer.concat([Buffer.from(a.text, 'latin1'), NUL]), commands: a.commands };
        },
      };
    case 'whatsminer-v3':
      return { complete: v3RequestComplete, respond: (buf, vary) => answerV3(buf, vary) };
    case 'bitaxe-http':
      return {
        complete: httpRequestComplete,
        respond: (buf, vary) => answerHttp(buf, p.httpInfo ?? '{}', vary),
      };
  }
}

function checkFault(mode: string): FaultMode {
  if (!(FAULT_MODES as readonly string[]).includes(mode)) throw EmuErrors.badFault(mode);
  return mode as FaultMode;
}

/** Fake miners must never show up on a site network, where a real collector or scanner would find them. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startEmulatedRig(opts: StartRigOptions): Promise<EmulatedRig> {
  const p = loadPersonality(opts.personality);
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host)) {
    throw EmuErrors.listen(
      formatAddress(host, opts.port ?? 0),
      'not a loopback address (127.0.0.0/8 or ::1); fake miners must not appear on the site network',
    );
  }
  const seed = opts.seed ?? 1;
  let fault = checkFault(opts.fault ?? 'none');
  let faultOpts: Required<FaultOptions> = {
    dripIntervalMs: 50,
    slowDelayMs: 2000,
    oversizeBytes: 8 * 1024 * 1024,
    ...opts.faultOptions,
  };
  const idleTimeoutMs = opts.idleTimeoutMs ?? 10_000;
  const lingerMs = opts.lingerMs ?? 5000;
  const dynamics = new RigDynamics({
    seed,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.rebootProbability !== undefined ? { rebootProbability: opts.rebootProbability } : {}),
  });
  const adapter = adapterFor(p);
  // What the reply edit needs of this rig: its capture's `Elapsed`, and its seed for its own MAC.
  const varyBase: VaryBase = { elapsedS: p.elapsedS, macSeed: seed };
  const garbageRng = seededRandom(seed ^ 0x6a09e667);
  const latencyRng = seededRandom(seed ^ 0x3c6ef372);
  let latency = opts.latency ? checkLatency(opts.latency) : null;
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const counters = { connections: 0, commands: 0, byCommand: {} as Record<string, number> };
  let closed = false;
  let rebooting = false;
  const rebootWaiters = new Set<() => void>();
  let port = opts.port ?? 0;
  // Serial mode: connections wait their turn, as in cgminer's one-at-a-time API thread.
  const serial = opts.serial ?? false;
  const queue: { socket: net.Socket; serve: () => void }[] = [];
  let busy = false;
  const runNext = () => {
    busy = false;
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (next.socket.destroyed) continue;
      busy = true;
      next.socket.resume();
      next.serve();
      return;
    }
  };

  const later = (ms: number, fn: () => void, repeat = false): NodeJS.Timeout => {
    const t = repeat
      ? setInterval(fn, ms)
      : setTimeout(() => {
          timers.delete(t);
          fn();
        }, ms);
    timers.add(t);
    return t;
  };
  const cancel = (t: NodeJS.Timeout | undefined) => {
    if (!t) return;
    clearTimeout(t);
    clearInterval(t);
    timers.delete(t);
  };

  const reply = (socket: net.Socket, buf: Buffer) => {
    const mode = fault;
    if (mode === 'hang') return; // read, never answer, keep the socket open
    if (mode === 'oversize') {
      streamOversize(socket, faultOpts.oversizeBytes);
      return;
    }
    if (mode === 'garbage') {
      const n = 256 + Math.floor(garbageRng() * 3840);
      const junk = Buffer.alloc(n);
      // Bytes 1..255: the only NUL is the terminator, so the client reads all of it as "the reply".
      for (let i = 0; i < n; i++) junk[i] = 1 + Math.floor(garbageRng() * 255);
      socket.end(Buffer.concat([junk, NUL]));
      return;
    }
    const snap = dynamics.snapshot();
    const out = adapter.respond(buf, (text) => varyText(text, snap, varyBase));
    counters.commands += out.commands.length;
    for (const c of out.commands) counters.byCommand[c] = (counters.byCommand[c] ?? 0) + 1;
    const bytes = out.bytes;
    switch (mode) {
      case 'slow':
        later(faultOpts.slowDelayMs, () => {
          if (!socket.destroyed) socket.end(bytes);
        });
        return;
      case 'drip': {
        let i = 0;
        const t = later(
          faultOpts.dripIntervalMs,
          () => {
            if (socket.destroyed || i >= bytes.length) {
              cancel(t);
              if (!socket.destroyed) socket.end();
              return;
            }
            socket.write(bytes.subarray(i, i + 1));
            i++;
          },
          true,
        );
        socket.once('close', () => cancel(t));
        return;
      }
      case 'reset': {
        const half = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
        socket.write(half, () => {
          // A short pause lets the half reply reach the client before the RST.
          later(20, () => {
            if (!socket.destroyed) socket.resetAndDestroy();
          });
        });
        return;
      }
      default:
        socket.end(bytes);
    }
  };

  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    if (closed || fault === 'refuse' || rebooting) {
      socket.destroy();
      return;
    }
    counters.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {
      // Client resets and aborted reads are normal traffic for a test server.
    });
    socket.once('close', () => sockets.delete(socket));
    // Our side is half-closed once the reply is out (allowHalfOpen, so a late request byte cannot turn the close
    // into an RST that eats the reply); a client that never closes its side is cut off after a grace period.
    socket.once('finish', () => {
      const t = later(lingerMs, () => socket.destroy());
      socket.once('close', () => cancel(t));
    });
    if (fault === 'empty') {
      // Drain what the client sends so the close is a FIN (EOF), not an RST.
      socket.resume();
      socket.end();
      return;
    }
    if (!serial) serve(socket);
    else {
      socket.once('close', () => {
        if (active === socket) {
          active = null;
          runNext();
        }
      });
      const start = () => {
        active = socket;
        serve(socket);
      };
      if (busy) {
        socket.pause();
        queue.push({ socket, serve: start });
      } else {
        busy = true;
        start();
      }
    }
  });
  let active: net.Socket | null = null;

  function serve(socket: net.Socket): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let answered = false;
    let idle: NodeJS.Timeout | undefined = later(idleTimeoutMs, () => socket.destroy());
    const answer = () => {
      answered = true;
      cancel(idle);
      idle = undefined;
      const send = () => {
        if (socket.destroyed) return;
        try {
          reply(socket, Buffer.concat(chunks, size));
        } catch {
          // A bug in a reply builder must cost one connection, never the emulator process.
          socket.destroy();
        }
      };
      // A hung rig never answers, so it draws no delay (the draws of the others stay the same).
      const delayMs = latency && fault !== 'hang' ? drawLatencyMs(latency, latencyRng) : 0;
      if (delayMs > 0) later(delayMs, send);
      else send();
    };
    socket.on('data', (chunk: Buffer) => {
      if (answered) return; // one request per connection; later bytes are ignored
      chunks.push(chunk);
      size += chunk.length;
      if (adapter.complete(Buffer.concat(chunks, size))) answer();
    });
    socket.once('end', () => {
      if (answered) return;
      // The client stopped sending: answer what arrived (an incomplete JSON gets Code 23), or just close.
      if (size > 0) answer();
      else {
        cancel(idle);
        socket.end();
      }
    });
  }
  server.on('error', () => {
    // Listen errors are reported through listen(); later errors have no caller to report to.
  });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EMFILE'
            ? 'EMFILE: too many open files (raise `ulimit -n`, or run fewer rigs per process)'
            : (err.code ?? err.message);
        reject(EmuErrors.listen.with({ cause: err }, formatAddress(host, port), why));
      };
      server.once('error', onError);
      server.listen({ host, port, backlog: 511 }, () => {
        server.off('error', onError);
        const a = server.address();
        if (a && typeof a === 'object') port = a.port;
        resolve();
      });
    });

  if (fault !== 'refuse') await listen();
  else {
    // Reserve nothing: a rig born refusing has no port yet unless one was given.
    if (port === 0) {
      await listen();
      server.close();
    }
  }

  const rig: EmulatedRig = {
    name: opts.name ?? p.name,
    host,
    get port() {
      return port;
    },
    get address() {
      return formatAddress(host, port);
    },
    family: p.family,
    personality: p.name,
    protocol: p.protocol,
    get fault() {
      return fault;
    },
    async setFault(mode, options) {
      const next = checkFault(mode);
      if (options) faultOpts = { ...faultOpts, ...options };
      fault = next;
      if (closed || rebooting) return;
      if (next === 'refuse' && server.listening) server.close();
      else if (next !== 'refuse' && !server.listening) await listen();
    },
    setLatency(next) {
      latency = next ? checkLatency(next) : null;
    },
    async reboot(downtimeMs = 0) {
      if (closed) return;
      if (downtimeMs <= 0) {
        dynamics.reboot();
        return;
      }
      rebooting = true;
      if (server.listening) server.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => {
        rebootWaiters.add(resolve);
        later(downtimeMs, () => {
          rebootWaiters.delete(resolve);
          resolve();
        });
      });
      rebooting = false;
      if (closed) return;
      // Elapsed counts from the moment the miner process is up again.
      dynamics.reboot();
      if (fault !== 'refuse' && !server.listening) await listen();
    },
    stats() {
      return {
        connections: counters.connections,
        open: sockets.size,
        commands: counters.commands,
        byCommand: { ...counters.byCommand },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) {
        clearTimeout(t);
        clearInterval(t);
      }
      timers.clear();
      for (const w of rebootWaiters) w();
      rebootWaiters.clear();
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return rig;
}

/** 8 MiB of JSON-looking bytes with no NUL, written with back-pressure, then a plain close. */
function streamOversize(socket: net.Socket, total: number): void {
  const chunk = Buffer.from(
    '{"STATUS":[{"STATUS":"S","Msg":"oversize"}],"STATS":['.padEnd(64 * 1024, '0'),
    'latin1',
  );
  let sent = 0;
  const pump = () => {
    while (sent < total && !socket.destroyed) {
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      if (!socket.write(chunk.subarray(0, n))) {
        socket.once('drain', pump);
        return;
      }
    }
    if (!socket.destroyed) socket.end();
  };
  pump();
}
