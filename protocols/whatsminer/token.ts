/**
 * Whatsminer API v2 privileged-command scheme (docs/protocols.md, "## Whatsminer").
 *
 * TELEMETRY NEVER USES THIS. The collector only sends read commands, which btminer serves in plaintext; asking for
 * a token every poll would also burn the 32-tokens-per-IP budget (Code 136). This module exists for a future
 * write feature (LED, reboot, pools) that an operator must enable explicitly.
 *
 * Flow: `get_token` → {time, salt, newsalt}; key = hash part of MD5-crypt(password, salt);
 * sign = hash part of MD5-crypt(key + time, newsalt); AES-256-ECB with SHA-256(key) as the key, NUL padding,
 * base64; sent as {"enc":1,"data":"…"}; replies come back as {"enc":"<base64>"}.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { Secret } from '../../lib/secret.js';
import { excessiveNestingAt, MAX_NESTING_DEPTH } from '../kit/depth.js';
import { ProtoErrors } from '../kit/index.js';
import { isObject, type Json, statusOf, str } from './decode.js';
import { WhatsminerErrors } from './errors.js';

const MAGIC = '$1$';
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `n` characters of crypt's base-64 alphabet from the low bits of `v`, least significant first. */
function to64(v: number, n: number): string {
  let out = '';
  let x = v;
  for (let i = 0; i < n; i++) {
    out += ITOA64[x & 0x3f];
    x >>>= 6;
  }
  return out;
}

/**
 * MD5-crypt (Poul-Henning Kamp's FreeBSD `$1$` scheme), written from the algorithm description:
 * salt ≤ 8 chars (stops at `$`), an "alternate" digest md5(pw·salt·pw), a first digest over pw·"$1$"·salt plus
 * bytes of the alternate digest and a bit-driven mix of NUL / pw[0], then 1000 strengthening rounds, then a
 * byte-shuffled base-64 encoding. Returns the full `$1$salt$hash` string.
 */
export function md5crypt(password: string | Buffer, saltIn: string): string {
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  let salt = saltIn.startsWith(MAGIC) ? saltIn.slice(MAGIC.length) : saltIn;
  const dollar = salt.indexOf('$');
  if (dollar !== -1) salt = salt.slice(0, dollar);
  salt = salt.slice(0, 8);
  const saltBuf = Buffer.from(salt, 'utf8');

  const alternate = md5(pw, saltBuf, pw);
  const parts: Buffer[] = [pw, Buffer.from(MAGIC), saltBuf];
  for (let left = pw.length; left > 0; left -= 16) parts.push(alternate.subarray(0, Math.min(16, left)));
  // For each bit of the password length, low bit first: a NUL byte when set, the first password byte when not.
  for (let bits = pw.length; bits > 0; bits >>>= 1) {
    parts.push(bits & 1 ? Buffer.alloc(1) : pw.subarray(0, 1));
  }
  let digest = md5(...parts);

  for (let round = 0; round < 1000; round++) {
    const p: Buffer[] = [];
    p.push(round & 1 ? pw : digest);
    if (round % 3 !== 0) p.push(saltBuf);
    if (round % 7 !== 0) p.push(pw);
    p.push(round & 1 ? digest : pw);
    digest = md5(...p);
  }

  const d = digest;
  const triple = (a: number, b: number, c: number) => to64((d[a]! << 16) | (d[b]! << 8) | d[c]!, 4);
  const hash =
    triple(0, 6, 12) +
    triple(1, 7, 13) +
    triple(2, 8, 14) +
    triple(3, 9, 15) +
    triple(4, 10, 5) +
    to64(d[11]!, 2);
  return `${MAGIC}${salt}$${hash}`;
}

/** The hash field (element 3 of `$1$salt$hash` split on `$`), which btminer uses as key and sign. */
export function md5cryptHash(password: string | Buffer, salt: string): string {
  return md5crypt(password, salt).split('$')[3] ?? '';
}

export interface TokenChallenge {
  time: string;
  salt: string;
  newsalt: string;
}

/** Read a `get_token` reply (Code 134, Msg {time, salt, newsalt}); fixture whatsminer_unknown_get-token.txt. */
export function parseTokenChallenge(body: Json, addr = 'whatsminer'): TokenChallenge {
  const st = statusOf(body);
  if (st.code === 136) throw WhatsminerErrors.tokenLimit(addr);
  if (st.status !== 'S' || !st.msgObject) {
    throw ProtoErrors.status('get_token', st.msg ?? `Code ${st.code ?? '?'}`);
  }
  const time = str(st.msgObject.time);
  const salt = str(st.msgObject.salt);
  const newsalt = str(st.msgObject.newsalt);
  if (!time || !salt || !newsalt) throw ProtoErrors.decode('get_token reply lacks time/salt/newsalt');
  return { time, salt, newsalt };
}

export interface PrivilegedSession {
  /** AES key material: hash part of MD5-crypt(password, salt). Treat as secret. */
  readonly aesKey: Buffer;
  /** The `token` field of privileged requests. */
  readonly sign: string;
}

/** Derive the session from a challenge. The password stays a `Secret`: revealed only here, never logged. */
export function deriveSession(password: Secret, challenge: TokenChallenge): PrivilegedSession {
  const key = md5cryptHash(password.reveal(), challenge.salt);
  const sign = md5cryptHash(key + challenge.time, challenge.newsalt);
  return { aesKey: createHash('sha256').update(key, 'ascii').digest(), sign };
}

/** Encrypt one privileged command into the `{"enc":1,"data":"…"}` envelope (NUL padding, not PKCS#7). */
export function encryptCommand(
  session: PrivilegedSession,
  cmd: string,
  param?: Json,
): { enc: 1; data: string } {
  const plain: Record<string, Json> = { cmd };
  if (param !== undefined) plain.param = param;
  plain.token = session.sign;
  const bytes = Buffer.from(JSON.stringify(plain), 'utf8');
  const padded = Buffer.alloc(Math.ceil(bytes.length / 16) * 16 || 16);
  bytes.copy(padded);
  const cipher = createCipheriv('aes-256-ecb', session.aesKey, null);
  cipher.setAutoPadding(false);
  const data = Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
  return { enc: 1, data };
}

function aesDecrypt(key: Buffer, b64: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw WhatsminerErrors.envelope('not base64');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0 || bytes.length % 16 !== 0) {
    throw WhatsminerErrors.envelope(`ciphertext of ${bytes.length} bytes is not a multiple of 16`);
  }
  const decipher = createDecipheriv('aes-256-ecb', key, null);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(bytes), decipher.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end).toString('utf8');
}

/** Decrypt the request envelope (used by tests and emulators to play the miner's side). */
export function decryptRequest(session: PrivilegedSession, envelope: Json): Json {
  if (!isObject(envelope) || typeof envelope.data !== 'string') {
    throw WhatsminerErrors.envelope('request lacks a "data" string');
  }
  return parsePlain(aesDecrypt(session.aesKey, envelope.data));
}

/** Encrypt a reply object the way the miner does: `{"enc":"<base64>"}`. */
export function encryptReply(session: PrivilegedSession, reply: Json): { enc: string } {
  const bytes = Buffer.from(JSON.stringify(reply), 'utf8');
  const padded = Buffer.alloc(Math.ceil(bytes.length / 16) * 16 || 16);
  bytes.copy(padded);
  const cipher = createCipheriv('aes-256-ecb', session.aesKey, null);
  cipher.setAutoPadding(false);
  return { enc: Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64') };
}

/**
 * Open a reply to a privileged command. An encrypted reply is `{"enc":"<base64>"}`; an error about the envelope
 * itself comes back in plaintext (whatsminer_unknown_reboot-enc.txt: Code 23 "enc json load err"), so a
 * plaintext STATUS body is returned as is.
 */
export function decryptReply(session: PrivilegedSession, reply: Json): Json {
  if (isObject(reply) && typeof reply.enc === 'string')
    return parsePlain(aesDecrypt(session.aesKey, reply.enc));
  if (isObject(reply) && 'STATUS' in reply) return reply;
  throw WhatsminerErrors.envelope('reply is neither {"enc":…} nor a plaintext STATUS');
}

function parsePlain(text: string): Json {
  if (excessiveNestingAt(text) !== -1) {
    throw ProtoErrors.decode(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw WhatsminerErrors.envelope('decrypted bytes are not JSON (wrong key?)');
  }
}
