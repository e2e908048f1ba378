/**
 * HTTP Digest access authentication, written from RFC 7616 (and RFC 2617 for `qop`-less servers): MD5,
 * MD5-sess, SHA-256 and SHA-256-sess with `qop=auth`. Stock Antminer web UIs challenge with
 * `Digest realm="antMiner Configuration", nonce=…, qop="auth"` (docs/protocols.md, "## Antminer").
 * The password is a `Secret`; it is revealed only inside the hash and never stored or logged.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Secret } from '../../lib/secret.js';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop: string[];
  opaque: string | null;
  algorithm: string;
  stale: boolean;
}

/** Parse `Digest realm="x", nonce="y", qop="auth,auth-int", algorithm=MD5`. Null when not a Digest challenge. */
export function parseDigestChallenge(header: string): DigestChallenge | null {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return null;
  const params = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[1]!); p; p = re.exec(m[1]!)) {
    params.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? ''));
  }
  const nonce = params.get('nonce');
  if (nonce === undefined) return null;
  return {
    realm: params.get('realm') ?? '',
    nonce,
    qop: (params.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim())
      .filter(Boolean),
    opaque: params.get('opaque') ?? null,
    algorithm: params.get('algorithm') ?? 'MD5',
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
}

function hasher(algorithm: string): ((s: string) => string) | null {
  const base = algorithm.toUpperCase().replace(/-SESS$/, '');
  const name = base === 'MD5' ? 'md5' : base === 'SHA-256' ? 'sha256' : null;
  if (!name) return null;
  return (s: string) => createHash(name).update(s, 'utf8').digest('hex');
}

export function digestSupported(ch: DigestChallenge): boolean {
  return hasher(ch.algorithm) !== null && (ch.qop.length === 0 || ch.qop.includes('auth'));
}

export interface DigestInput {
  method: string;
  uri: string;
  username: string;
  password: Secret;
  challenge: DigestChallenge;
  /** Nonce count, 1 for the first request with this nonce. */
  nc?: number;
  /** Client nonce; random when omitted (tests pass a fixed one). */
  cnonce?: string;
}

/** The `Authorization` header value answering a challenge. Throws only on an unsupported algorithm. */
export function digestAuthorization(input: DigestInput): string {
  const { challenge: ch } = input;
  const H = hasher(ch.algorithm);
  if (!H) throw new Error(`unsupported digest algorithm ${ch.algorithm}`);
  const cnonce = input.cnonce ?? randomBytes(8).toString('hex');
  const nc = (input.nc ?? 1).toString(16).padStart(8, '0');
  let ha1 = H(`${input.username}:${ch.realm}:${input.password.reveal()}`);
  if (/-sess$/i.test(ch.algorithm)) ha1 = H(`${ha1}:${ch.nonce}:${cnonce}`);
  const ha2 = H(`${input.method}:${input.uri}`);
  const useQop = ch.qop.includes('auth');
  const response = useQop
    ? H(`${ha1}:${ch.nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : H(`${ha1}:${ch.nonce}:${ha2}`);
  const q = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
  const parts = [
    `username=${q(input.username)}`,
    `realm=${q(ch.realm)}`,
    `nonce=${q(ch.nonce)}`,
    `uri=${q(input.uri)}`,
    `algorithm=${ch.algorithm}`,
    `response=${q(response)}`,
  ];
  if (useQop) parts.push('qop=auth', `nc=${nc}`, `cnonce=${q(cnonce)}`);
  if (ch.opaque !== null) parts.push(`opaque=${q(ch.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
