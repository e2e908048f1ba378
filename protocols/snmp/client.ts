/**
 * A small SNMP client on npm `net-snmp`: v2c and v3 (authNoPriv / authPriv), GET and GETBULK walks of table
 * columns, per-request timeout and retries, one request in flight per agent, cancellable by an AbortSignal.
 * Every failure becomes a named `RT_ERR_SNMP_*` error (see ./errors.ts).
 */
import snmp, { type Session, type Varbind } from 'net-snmp';
import { RtError } from '../../lib/errors.js';
import type { Secret } from '../../lib/secret.js';
import { SnmpErrors } from './errors.js';

export type AuthProtocol = 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
/** aes = AES-128 (RFC 3826); aes256b / aes256r = AES-256 with Blumenthal / Reeder ("Cisco") key localization. */
export type PrivProtocol = 'aes' | 'aes256b' | 'aes256r' | 'des';

export interface SnmpV3Credentials {
  user: string;
  level: 'authNoPriv' | 'authPriv';
  auth_protocol: AuthProtocol;
  auth_key: Secret;
  priv_protocol?: PrivProtocol | undefined;
  priv_key?: Secret | undefined;
  context?: string | undefined;
}

export interface SnmpTarget {
  host: string;
  port: number;
  version: 'v2c' | 'v3';
  community?: Secret | undefined;
  v3?: SnmpV3Credentials | undefined;
  /** Per request (one datagram and its answer). */
  timeout_ms: number;
  /** Extra tries after the first, per request. */
  retries: number;
  /** GETBULK max-repetitions; embedded agents misbehave with large values (docs/protocols.md "SNMP"). */
  max_repetitions: number;
}

/** A decoded value: numbers for INTEGER/Gauge/Counter/TimeTicks/Counter64, strings for text, OIDs, IPs. */
export type SnmpValue = number | string | null;

export interface GetResult {
  oid: string;
  value: SnmpValue;
  /** noSuchObject / noSuchInstance / endOfMibView when the agent has nothing there. */
  missing: string | null;
}

/** column OID → (row index suffix → value). */
export type ColumnData = Map<string, Map<string, SnmpValue>>;

const AUTH: Record<AuthProtocol, number> = {
  md5: snmp.AuthProtocols.md5,
  sha: snmp.AuthProtocols.sha,
  sha224: snmp.AuthProtocols.sha224,
  sha256: snmp.AuthProtocols.sha256,
  sha384: snmp.AuthProtocols.sha384,
  sha512: snmp.AuthProtocols.sha512,
};
const PRIV: Record<PrivProtocol, number> = {
  aes: snmp.PrivProtocols.aes,
  aes256b: snmp.PrivProtocols.aes256b,
  aes256r: snmp.PrivProtocols.aes256r,
  des: snmp.PrivProtocols.des,
};

/** A broken agent could feed an endless walk; stop well past any real PDU table. */
const MAX_WALK_VARBINDS = 200_000;

export function normalizeOid(oid: string): string {
  return oid.trim().replace(/^\./, '');
}

export function oidParts(oid: string): number[] {
  return normalizeOid(oid)
    .split('.')
    .filter((p) => p !== '')
    .map(Number);
}

/** Lexicographic order of numeric OIDs. */
export function compareOids(a: string, b: string): number {
  const x = oidParts(a);
  const y = oidParts(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i]! !== y[i]!) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

/** True when `oid` lies strictly under `prefix`. */
export function isUnder(oid: string, prefix: string): boolean {
  const o = normalizeOid(oid);
  const p = normalizeOid(prefix);
  return o.length > p.length && o.startsWith(p) && o[p.length] === '.';
}

/** Decode one varbind value. Counter64 (and other opaque 64-bit ints) arrive as Buffers (docs/protocols.md "SNMP"). */
export function decodeValue(vb: Varbind): SnmpValue {
  const T = snmp.ObjectType;
  const v = vb.value;
  if (vb.type === T.Counter64) {
    if (!Buffer.isBuffer(v)) return typeof v === 'number' ? v : null;
    // Agents send the shortest big-endian encoding (a 4-byte Buffer for small values): left-pad to 8.
    const padded = Buffer.alloc(8);
    v.copy(padded, Math.max(0, 8 - v.length), Math.max(0, v.length - 8));
    return Number(padded.readBigUInt64BE());
  }
  if (vb.type === T.OctetString || vb.type === T.Opaque) {
    if (!Buffer.isBuffer(v)) return typeof v === 'string' ? v : null;
    // Some agents pad DisplayStrings with NULs; strip them so names compare cleanly.
    return v.toString('utf8').replace(/\0+$/, '');
  }
  if (vb.type === T.Null) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number(v);
  return v === null || v === undefined ? null : String(v);
}

export class SnmpClient {
  readonly target: SnmpTarget;
  readonly label: string;
  #session: Session | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(target: SnmpTarget) {
    this.target = target;
    this.label = target.host.includes(':')
      ? `[${target.host}]:${target.port}`
      : `${target.host}:${target.port}`;
  }

  #open(): Session {
    if (this.#session) return this.#session;
    const t = this.target;
    const options = {
      port: t.port,
      retries: t.retries,
      timeout: t.timeout_ms,
      transport: t.host.includes(':') ? ('udp6' as const) : ('udp4' as const),
      // Refuse agents whose GETBULK answers go backwards: a walk over them would never end.
      backwardsGetNexts: false,
    };
    let session: Session;
    if (t.version === 'v3') {
      const c = t.v3;
      if (!c) throw SnmpErrors.badReply(this.label, 'SNMPv3 selected but no v3 credentials configured');
      const user = {
        name: c.user,
        level: snmp.SecurityLevel[c.level],
        authProtocol: AUTH[c.auth_protocol],
        authKey: c.auth_key.reveal(),
        ...(c.level === 'authPriv'
          ? { privProtocol: PRIV[c.priv_protocol ?? 'aes'], privKey: c.priv_key?.reveal() ?? '' }
          : {}),
      };
      session = snmp.createV3Session(t.host, user, {
        ...options,
        ...(c.context ? { context: c.context } : {}),
      });
    } else {
      // net-snmp defaults to SNMPv1: always say v2c.
      session = snmp.createSession(t.host, t.community?.reveal() ?? 'public', {
        ...options,
        version: snmp.Version2c,
      });
    }
    // A malformed datagram is emitted as 'error'; without a listener it would crash the process.
    session.on('error', () => {});
    this.#session = session;
    return session;
  }

  /** Drop the session (socket). The next request opens a new one (and re-discovers the v3 engine). */
  #reset(): void {
    const s = this.#session;
    this.#session = null;
    if (s) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  /** Serialize: one request in flight per agent (PDU management cards are slow, docs/protocols.md "SNMP"). */
  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #request<T>(
    signal: AbortSignal | undefined,
    send: (session: Session, cb: (err: Error | null, result: T) => void) => void,
  ): Promise<T> {
    return this.#enqueue(
      () =>
        new Promise<T>((resolve, reject) => {
          if (this.#closed) return reject(SnmpErrors.aborted(this.label));
          if (signal?.aborted) return reject(this.#abortError(signal));
          let session: Session;
          try {
            session = this.#open();
          } catch (err) {
            return reject(this.#mapError(err));
          }
          let settled = false;
          const onAbort = () => {
            if (settled) return;
            settled = true;
            // net-snmp cannot cancel one request: closing the socket is the only way to stop its retries.
            this.#reset();
            reject(this.#abortError(signal!));
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          try {
            send(session, (err, result) => {
              if (settled) return;
              settled = true;
              signal?.removeEventListener('abort', onAbort);
              if (err) {
                const mapped = this.#mapError(err);
                // After a v3 security failure or a socket error, start clean next time.
                if (!SnmpErrors.noSuchObject.is(mapped)) this.#reset();
                reject(mapped);
              } else resolve(result);
            });
          } catch (err) {
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            this.#reset();
            reject(this.#mapError(err));
          }
        }),
    );
  }

  #abortError(signal: AbortSignal): RtError {
    const reason = signal.reason;
    return reason instanceof RtError ? reason : SnmpErrors.aborted(this.label);
  }

  #mapError(err: unknown): RtError {
    return mapSnmpError(err, this.label, this.target);
  }

  /** GET scalars or single instances. Missing objects come back with `missing` set, not as an error. */
  async get(oids: string[], signal?: AbortSignal): Promise<GetResult[]> {
    const out: GetResult[] = [];
    // Keep requests small: embedded agents cap the response near one Ethernet frame.
    for (let i = 0; i < oids.length; i += 32) {
      const chunk = oids.slice(i, i + 32).map(normalizeOid);
      const vbs = await this.#request<Varbind[]>(signal, (s, cb) => s.get(chunk, cb));
      chunk.forEach((oid, j) => {
        const vb = vbs[j];
        if (!vb) out.push({ oid, value: null, missing: 'noSuchInstance' });
        else if (snmp.isVarbindError(vb)) {
          out.push({ oid, value: null, missing: snmp.varbindError(vb).split(':')[0] ?? 'noSuchObject' });
        } else out.push({ oid, value: decodeValue(vb), missing: null });
      });
    }
    return out;
  }

  /**
   * Walk several table columns at once with GETBULK (one varbind per column per repetition), stopping each
   * column when the agent leaves its subtree. Only the needed columns are fetched, never whole tables.
   */
  async walkColumns(columns: string[], signal?: AbortSignal): Promise<ColumnData> {
    const result: ColumnData = new Map();
    const cursor = new Map<string, string>();
    for (const col of columns.map(normalizeOid)) {
      result.set(col, new Map());
      cursor.set(col, col);
    }
    let total = 0;
    while (cursor.size > 0) {
      const active = [...cursor.keys()];
      const starts = active.map((c) => cursor.get(c)!);
      const reps = Math.max(1, Math.floor(this.target.max_repetitions));
      const rows = await this.#request<Array<Varbind | Varbind[]>>(signal, (s, cb) =>
        s.getBulk(starts, 0, reps, cb),
      );
      active.forEach((col, i) => {
        const list = rows[i];
        const vbs = Array.isArray(list) ? list : list ? [list] : [];
        let last = cursor.get(col)!;
        let done = vbs.length === 0;
        for (const vb of vbs) {
          if (snmp.isVarbindError(vb) || !isUnder(vb.oid, col)) {
            done = true;
            break;
          }
          if (compareOids(vb.oid, last) <= 0) {
            throw SnmpErrors.badReply(this.label, `walk of ${col} went backwards at ${vb.oid}`);
          }
          result.get(col)!.set(normalizeOid(vb.oid).slice(col.length + 1), decodeValue(vb));
          last = normalizeOid(vb.oid);
          total++;
        }
        if (done) cursor.delete(col);
        else cursor.set(col, last);
      });
      if (total > MAX_WALK_VARBINDS) {
        throw SnmpErrors.badReply(this.label, `walk exceeded ${MAX_WALK_VARBINDS} values; agent loops?`);
      }
    }
    return result;
  }

  close(): void {
    this.#closed = true;
    this.#reset();
  }
}

const USM_MESSAGES: Array<[RegExp, (addr: string, t: SnmpTarget) => RtError]> = [
  [/unknown user/i, (a, t) => SnmpErrors.unknownUser(a, t.v3?.user ?? '?')],
  [/wrong digest/i, (a) => SnmpErrors.wrongDigest(a)],
  [/unsupported security level/i, (a, t) => SnmpErrors.unsupportedSecLevel(a, t.v3?.level ?? '?')],
  [/decryption/i, (a) => SnmpErrors.decryption(a)],
  [/time window/i, (a) => SnmpErrors.timeWindow(a)],
];

const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNREFUSED',
  'EADDRNOTAVAIL',
  'EINVAL',
]);

/** net-snmp error → named rigtel error. Exported for tests. */
export function mapSnmpError(err: unknown, addr: string, target: SnmpTarget): RtError {
  if (err instanceof RtError) return err;
  const e = err as { name?: string; message?: string; code?: unknown; status?: unknown } | null;
  const name = e?.name ?? '';
  const message = e?.message ?? String(err);
  if (name === 'RequestTimedOutError') {
    return SnmpErrors.noResponse.with({ cause: err }, addr, target.timeout_ms, target.retries + 1);
  }
  if (name === 'ResponseInvalidError') {
    if (
      e?.code === snmp.ResponseInvalidCode.EAuthFailure ||
      e?.code === snmp.ResponseInvalidCode.ENotInTimeWindow
    ) {
      for (const [re, make] of USM_MESSAGES) if (re.test(message)) return make(addr, target);
      return SnmpErrors.v3Auth.with({ cause: err }, addr, message);
    }
    return SnmpErrors.badReply.with({ cause: err }, addr, message);
  }
  if (name === 'RequestFailedError') {
    if (/NoSuchName/i.test(message)) return SnmpErrors.noSuchObject(addr, message.split(': ')[1] ?? '?');
    return SnmpErrors.agentError.with({ cause: err }, addr, message);
  }
  if (typeof e?.code === 'string' && UNREACHABLE_CODES.has(e.code)) {
    return SnmpErrors.unreachable.with({ cause: err }, addr, `${e.code}: ${message}`);
  }
  if (/socket forcibly closed/i.test(message)) return SnmpErrors.aborted(addr);
  return SnmpErrors.badReply.with({ cause: err }, addr, message);
}
