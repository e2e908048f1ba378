/**
 * The site's Ed25519 signing key (node:crypto). Generated on first use in `<storage.dir>/signing-key.pem`,
 * mode 0600; the private key is never logged or served. `GET /v1/keys` serves the public key (SPKI PEM) and its
 * fingerprint: the SHA-256 of the DER-encoded SPKI, hex.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import { sha256Hex } from './canonical.js';
import { LoanErrors } from './errors.js';

export const KEY_FILE = 'signing-key.pem';

export interface SigningKey {
  /** Signs bytes; the private key stays inside this closure. */
  sign(data: string): string;
  publicPem: string;
  fingerprint: string;
}

export function loadOrCreateKey(dir: string): SigningKey {
  const file = join(dir, KEY_FILE);
  let priv: KeyObject;
  try {
    if (existsSync(file)) {
      priv = createPrivateKey(readFileSync(file, 'utf8'));
      if (priv.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    } else {
      mkdirSync(dir, { recursive: true });
      const pair = generateKeyPairSync('ed25519');
      priv = pair.privateKey;
      writeFileSync(file, priv.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    }
  } catch (err) {
    throw LoanErrors.keyFile.with({ cause: err }, file, errorMessage(err));
  }
  const pub = createPublicKey(priv);
  const publicPem = pub.export({ type: 'spki', format: 'pem' }).toString();
  return {
    sign: (data) => sign(null, Buffer.from(data), priv).toString('base64'),
    publicPem,
    fingerprint: fingerprintOf(publicPem),
  };
}

export function fingerprintOf(publicPem: string): string {
  const der = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
  return sha256Hex(der);
}

export function verifySignature(publicPem: string, data: string, signatureB64: string): boolean {
  try {
    return verify(null, Buffer.from(data), createPublicKey(publicPem), Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
