/**
 * Test support: hostile miner replies and a loopback server that serves them (the hostile-fleet test, the
 * fuzz tests). Every attack named in testing/hostile/INDEX.md is built here from a real capture
 * (protocols/fixtures/real) or from bytes, so the corpus stays reproducible; the small ones are also kept as
 * files in testing/hostile/ for reading and for the fuzz corpus.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFixtureText } from '../protocols/fixtures.js';

export const hostileDir = join(dirname(fileURLToPath(import.meta.url)), 'hostile');

/** The corpus files (name → bytes). */
export function hostileCorpus(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(hostileDir)) {
    if (f.endsWith('.md')) continue;
    out.set(f, readFileSync(join(hostileDir, f)));
  }
  return out;
}

const NUL = Buffer.from([0]);

/** `depth`-deep nested arrays inside a cgminer envelope. */
export function deepReply(depth = 100_000): Buffer {
  return Buffer.concat([Buffer.from(`{"STATUS":${'['.repeat(depth)}${']'.repeat(depth)}}`), NUL]);
}

/** Rewrite the values of the keys matching `keys` in a JSON-ish capture (number or quoted number) to `value`. */
export function setFields(
  text: string,
  keys: RegExp,
  value: (key: string, quoted: boolean) => string,
): string {
  return text.replace(/"([^"]+)":\s*("(?:[^"\\]|\\.)*"|-?[\d.eE+-]+)/g, (m, key: string, v: string) =>
    keys.test(key) ? `"${key}": ${value(key, v.startsWith('"'))}` : m,
  );
}

const HASH_KEYS = /^(GHS 5s|GHS av|GHS 30m|rate_30m|total rate|chain_rate\d+|MHS .*)$/;

/** The S19 Pro capture (stock bmminer) with its figures replaced by `edit`; `model` renames the unit. */
export function s19proReplies(
  edit: (stats: string) => string,
  model = 'Antminer S19 Pro',
): Record<string, string> {
  const swap = (t: string) => t.replaceAll('Antminer S19 Pro', model);
  return {
    version: swap(readFixtureText('antminer_s19pro_version.txt')),
    stats: swap(edit(readFixtureText('antminer_s19pro_stats.txt'))),
    pools: readFixtureText('antminer_s19pro_pools.txt'),
  };
}

/** Per-command attacks built from the real S19 Pro replies. */
export const VALUE_ATTACKS = {
  /** 1e30 GH/s everywhere a hashrate is, on a model the table knows. */
  'hashrate-1e30-known': () =>
    s19proReplies((t) => setFields(t, HASH_KEYS, (_k, q) => (q ? '"1e30"' : '1e30'))),
  /** The same on a model nobody knows: the physical bound must catch it without a nameplate. */
  'hashrate-1e30-unknown': () =>
    s19proReplies((t) => setFields(t, HASH_KEYS, (_k, q) => (q ? '"1e30"' : '1e30')), 'Antminer X99 Mystery'),
  /** NaN, Infinity and 1e999 in numeric fields (bare tokens JSON does not allow, and an overflowing literal). */
  'nan-infinity-1e999': () =>
    s19proReplies((t) =>
      setFields(
        setFields(t, HASH_KEYS, (k) =>
          k === 'GHS 5s' ? 'NaN' : k === 'GHS av' ? 'Infinity' : k === 'rate_30m' ? '1e999' : '"nan"',
        ),
        /^(fan\d|temp\d|Elapsed)$/,
        () => '1e999',
      ),
    ),
  /** 39-digit integers for uptime, fans and hashrate (they parse, to 1.23e38). */
  'huge-integers': () =>
    s19proReplies((t) =>
      setFields(
        setFields(t, HASH_KEYS, (_k, q) =>
          q ? '"370000000000000000000000000000000000000"' : '370000000000000000000000000000000000000',
        ),
        /^(fan\d|Elapsed)$/,
        () => '123000000000000000000000000000000000000',
      ),
    ),
} as const;

export type ValueAttack = keyof typeof VALUE_ATTACKS;

/** Byte-level attacks: the same reply (or behaviour) for every command. */
export type ByteAttack =
  | 'hang'
  | 'drip'
  | 'reset'
  | 'garbage'
  | 'huge-200mb'
  | 'no-nul'
  | 'bytes-after-nul'
  | 'invalid-utf8'
  | 'deep-100k'
  | 'error-status'
  | 'http-on-port';

export const BYTE_ATTACKS: readonly ByteAttack[] = [
  'hang',
  'drip',
  'reset',
  'garbage',
  'huge-200mb',
  'no-nul',
  'bytes-after-nul',
  'invalid-utf8',
  'deep-100k',
  'error-status',
  'http-on-port',
];

export interface HostileServer {
  attack: string;
  host: string;
  port: number;
  address: string;
  /** Bytes written in total (the 200 MB attack stops when the client goes away). */
  bytesSent(): number;
  close(): Promise<void>;
}

function commandOf(request: string): string {
  const t = request.replace(/\0[\s\S]*$/, '').trim();
  try {
    const parsed = JSON.parse(t) as { command?: unknown };
    return String(parsed.command ?? '');
  } catch {
    return t;
  }
}

/** A cgminer-style answer to `command` from per-command texts; joined `a+b` requests get `{"a":[…],"b":[…]}`. */
function answer(replies: Record<string, string>, command: string): string {
  const parts = command.split('+');
  const invalid = (c: string) =>
    `{"STATUS":[{"STATUS":"E","When":0,"Code":14,"Msg":"Invalid command","Description":"hostile"}],"id":1,"cmd":"${c}"}`;
  if (parts.length === 1) return (replies[command] ?? invalid(command)).replace(/\0[\s\S]*$/, '');
  return `{${parts.map((p) => `"${p}":[${(replies[p] ?? invalid(p)).replace(/\0[\s\S]*$/, '').trim()}]`).join(',')},"id":1}`;
}

/** Start one hostile rig on loopback. */
export async function startHostile(
  attack: ByteAttack | ValueAttack,
  host = '127.0.0.1',
): Promise<HostileServer> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sent = 0;
  const replies = attack in VALUE_ATTACKS ? VALUE_ATTACKS[attack as ValueAttack]() : null;
  const good = readFixtureText('antminer_s19pro_version.txt').replace(/\0[\s\S]*$/, '');
  const write = (s: net.Socket, b: Buffer | string) => {
    sent += typeof b === 'string' ? Buffer.byteLength(b) : b.length;
    return s.write(b);
  };
  const respond = (socket: net.Socket, request: string) => {
    const command = commandOf(request);
    if (replies) {
      write(socket, answer(replies, command));
      socket.end(NUL);
      return;
    }
    switch (attack as ByteAttack) {
      case 'hang':
        return;
      case 'drip': {
        const bytes = Buffer.from(`${good}\0`);
        let i = 0;
        const t = setInterval(() => {
          if (socket.destroyed || i >= bytes.length) {
            clearInterval(t);
            timers.delete(t);
            return;
          }
          write(socket, bytes.subarray(i, i + 1));
          i++;
        }, 200);
        timers.add(t);
        return;
      }
      case 'reset':
        write(socket, good.slice(0, good.length >> 1));
        setTimeout(() => socket.resetAndDestroy(), 20);
        return;
      case 'garbage': {
        const junk = Buffer.alloc(2048);
        for (let i = 0; i < junk.length; i++) junk[i] = 1 + ((i * 7919) % 255);
        write(socket, junk);
        socket.end(NUL);
        return;
      }
      case 'huge-200mb': {
        // 200 MB without a NUL, written as the client reads (backpressure): stops when the client hangs up.
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let left = 200 * 1024 * 1024;
        const pump = () => {
          while (left > 0 && !socket.destroyed) {
            left -= chunk.length;
            if (!write(socket, chunk)) return;
          }
          if (!socket.destroyed) socket.end();
        };
        socket.on('drain', pump);
        pump();
        return;
      }
      case 'no-nul':
        // A whole reply, no terminator, and the connection stays open: only the deadline ends it.
        write(socket, good);
        return;
      case 'bytes-after-nul':
        write(
          socket,
          Buffer.concat([
            Buffer.from(good),
            NUL,
            Buffer.from('{"STATUS":[{"STATUS":"E"}]} trailing junk \xff\xfe'),
          ]),
        );
        socket.end();
        return;
      case 'invalid-utf8':
        write(
          socket,
          Buffer.concat([
            Buffer.from(good.replace('Antminer S19 Pro', 'Antminer S19 Pro\uFFFD')).subarray(0, 60),
            Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]),
            Buffer.from(good).subarray(60),
          ]),
        );
        socket.end(NUL);
        return;
      case 'deep-100k':
        write(socket, deepReply());
        socket.end();
        return;
      case 'error-status':
        write(
          socket,
          `{"STATUS":[{"STATUS":"E","When":1700000000,"Code":45,"Msg":"Access denied to '${command.replace(/["\\]/g, '')}' command","Description":"cgminer 4.11.1"}],"id":1}`,
        );
        socket.end(NUL);
        return;
      case 'http-on-port':
        write(
          socket,
          'HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 22\r\nConnection: close\r\n\r\n<h1>Bad Request</h1>\r\n',
        );
        socket.end();
        return;
    }
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    let buf = '';
    let answered = false;
    socket.on('data', (d) => {
      if (answered) return;
      buf += d.toString('latin1');
      // A JSON request is complete when it parses; a bare word when it arrived (cgminer reads one chunk too).
      answered = true;
      respond(socket, buf);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    attack,
    host,
    port,
    address: `${host}:${port}`,
    bytesSent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
