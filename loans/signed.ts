/**
 * Signed, chained documents (loan reports, hourly rollups). The file a lender keeps:
 *
 * ```
 * { "format": "rigtel-signed/1", "kind": "loan-report", "body": {…}, "prev_hash": "<hash of the previous report>"|null,
 *   "digests": { "covenants": "…", "covenants.dscr": "…", "covenants.dscr.value": "…", … },
 *   "hash": sha256(canonical({format, kind, body, prev_hash})),
 *   "signature": { "alg": "Ed25519", "key_fingerprint": "…", "public_key": "<SPKI PEM>", "value": "<base64 over hash>" } }
 * ```
 *
 * The signature covers `hash`, which covers the whole body, so any change breaks it. `digests` only locate a
 * change: they hash every node of the body down to three levels (`section.key.field`, array items as `[i]`,
 * first 16 hex of SHA-256 of the node's canonical JSON), so a verifier recomputes them and names the field
 * that differs. The file is written as canonical JSON too, so the same inputs give the same bytes.
 */
import { canonicalHash, canonicalJson } from './canonical.js';
import { fingerprintOf, type SigningKey, verifySignature } from './keys.js';

export const SIGNED_FORMAT = 'rigtel-signed/1';
const DIGEST_DEPTH = 3;

export interface SignedDoc<T = unknown> {
  format: typeof SIGNED_FORMAT;
  kind: string;
  body: T;
  prev_hash: string | null;
  digests: Record<string, string>;
  hash: string;
  signature: { alg: 'Ed25519'; key_fingerprint: string; public_key: string; value: string };
}

export function signDoc<T>(kind: string, body: T, prevHash: string | null, key: SigningKey): SignedDoc<T> {
  const hash = canonicalHash({ format: SIGNED_FORMAT, kind, body, prev_hash: prevHash });
  return {
    format: SIGNED_FORMAT,
    kind,
    body,
    prev_hash: prevHash,
    digests: digestTree(body),
    hash,
    signature: {
      alg: 'Ed25519',
      key_fingerprint: key.fingerprint,
      public_key: key.publicPem,
      value: key.sign(hash),
    },
  };
}

/** The bytes of a signed document as served and stored. */
export function serializeDoc(doc: SignedDoc): string {
  return `${canonicalJson(doc)}\n`;
}

export function digestTree(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (node: unknown, path: string, depth: number) => {
    if (path) out[path] = canonicalHash(node).slice(0, 16);
    if (depth >= DIGEST_DEPTH || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) walk(node[i], `${path}[${i}]`, depth + 1);
    } else
      for (const [k, v] of Object.entries(node as Record<string, unknown>))
        if (v !== undefined) walk(v, path ? `${path}.${k}` : k, depth + 1);
  };
  walk(body, '', 0);
  return out;
}

export interface VerifyResult {
  ok: boolean;
  /** Fields whose content no longer matches the digests, deepest first (the changed figure). */
  changed_fields: string[];
  hash_ok: boolean;
  signature_ok: boolean;
  /** Which key checked the signature: the one given (--key) or the one embedded in the file. */
  key_source: 'given' | 'embedded';
  key_fingerprint: string;
  /** null when no previous document was given. */
  chain_ok: boolean | null;
  problems: string[];
}

export function verifyDoc(doc: SignedDoc, opts: { publicPem?: string; prev?: SignedDoc } = {}): VerifyResult {
  const problems: string[] = [];
  const now = digestTree(doc.body);
  const paths = new Set([...Object.keys(now), ...Object.keys(doc.digests ?? {})]);
  const differing = [...paths].filter((p) => now[p] !== doc.digests?.[p]);
  // Keep only the deepest paths: a changed field also changes its row and section digests.
  const changed = differing
    .filter((p) => !differing.some((q) => q !== p && (q.startsWith(`${p}.`) || q.startsWith(`${p}[`))))
    .sort();
  for (const p of changed) problems.push(`field ${p} differs from the signed digest`);
  const hash = canonicalHash({
    format: doc.format,
    kind: doc.kind,
    body: doc.body,
    prev_hash: doc.prev_hash,
  });
  const hashOk = hash === doc.hash;
  if (!hashOk) problems.push('document hash does not match its content');
  const keySource = opts.publicPem ? 'given' : 'embedded';
  const pem = opts.publicPem ?? doc.signature?.public_key ?? '';
  let fingerprint = '';
  try {
    fingerprint = fingerprintOf(pem);
  } catch {
    problems.push('public key is not a valid SPKI PEM');
  }
  const sigOk = fingerprint !== '' && verifySignature(pem, doc.hash, doc.signature?.value ?? '');
  if (!sigOk) problems.push(`signature does not verify with the ${keySource} key`);
  if (opts.publicPem && fingerprint && doc.signature?.key_fingerprint !== fingerprint)
    problems.push('document was signed by another key than the one given');
  let chainOk: boolean | null = null;
  if (opts.prev) {
    chainOk = opts.prev.hash === doc.prev_hash;
    if (!chainOk) problems.push('prev_hash does not match the previous document');
  }
  return {
    ok: problems.length === 0,
    changed_fields: changed,
    hash_ok: hashOk,
    signature_ok: sigOk,
    key_source: keySource,
    key_fingerprint: fingerprint,
    chain_ok: chainOk,
    problems,
  };
}
