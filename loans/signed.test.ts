import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Secret } from '../lib/secret.js';
import { AuditLog, verifyAuditFile } from './audit.js';
import { canonicalJson } from './canonical.js';
import { loadOrCreateKey } from './keys.js';
import { signDoc, verifyDoc } from './signed.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'rigtel-signed-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('canonical JSON', () => {
  it('sorts keys, drops undefined, writes numbers in shortest form and refuses NaN', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 0.5, y: -0 } }),
      '{"a":[true,null,"x"],"b":1,"d":{"y":0,"z":0.5}}',
    );
    assert.equal(canonicalJson(1e21), '1e+21');
    assert.throws(() => canonicalJson({ a: Number.NaN }), /RT_ERR_LOAN_NOT_FINITE|NaN/);
  });
});

describe('signing key and signed documents', () => {
  it('creates the key once with mode 0600 and reuses it', () => {
    const dir = tmp();
    const a = loadOrCreateKey(dir);
    assert.equal(statSync(join(dir, 'signing-key.pem')).mode & 0o777, 0o600);
    const b = loadOrCreateKey(dir);
    assert.equal(a.fingerprint, b.fingerprint);
    assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
    assert.ok(!a.publicPem.includes('PRIVATE'));
  });

  it('verifies, names the changed field, checks the given key and the chain', () => {
    const key = loadOrCreateKey(tmp());
    const other = loadOrCreateKey(tmp());
    const first = signDoc(
      't',
      { covenants: { dscr: { value: 1.36 } }, rigs: [{ measured_ths: 90 }] },
      null,
      key,
    );
    const second = signDoc(
      't',
      { covenants: { dscr: { value: 1.2 } }, rigs: [{ measured_ths: 91 }] },
      first.hash,
      key,
    );
    assert.equal(verifyDoc(second, { publicPem: key.publicPem, prev: first }).ok, true);
    // Deterministic: the same body and predecessor sign to the same bytes (Ed25519 is deterministic).
    assert.equal(canonicalJson(signDoc('t', second.body, first.hash, key)), canonicalJson(second));

    const tampered = JSON.parse(JSON.stringify(second).replace('"measured_ths":91', '"measured_ths":97'));
    const r = verifyDoc(tampered, { publicPem: key.publicPem });
    assert.equal(r.ok, false);
    assert.deepEqual(r.changed_fields, ['rigs[0].measured_ths']);
    assert.equal(r.hash_ok, false);

    assert.equal(verifyDoc(second, { publicPem: other.publicPem }).signature_ok, false);
    assert.equal(verifyDoc(second, { prev: second }).chain_ok, false);
  });
});

describe('audit log', () => {
  it('chains entries, records only changed state, and names the first edited line', () => {
    const dir = tmp();
    let t = 1000;
    const log = new AuditLog(dir, () => t++);
    assert.ok(log.recordState('tariff', 'site', 'config', { usd_per_kwh: 0.05 }));
    assert.equal(log.recordState('tariff', 'site', 'config', { usd_per_kwh: 0.05 }), null);
    log.append('token', 'abc', 'cli', null, { role: 'lender' });
    // A restart reads the log back: the same config state is not recorded again, a change is (old → new).
    const again = new AuditLog(dir, () => t++);
    assert.equal(again.recordState('tariff', 'site', 'config', { usd_per_kwh: 0.05 }), null);
    const changed = again.recordState('tariff', 'site', 'config', { usd_per_kwh: 0.06 })!;
    assert.deepEqual(changed.old, { usd_per_kwh: 0.05 });
    assert.equal(changed.seq, 3);
    const file = join(dir, 'audit.jsonl');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // A secret in a recorded value is written redacted.
    again.recordState('market_override', 'provider', 'config', { password: new Secret('hunter2-audit') });
    assert.ok(!readFileSync(file, 'utf8').includes('hunter2-audit'));
    const ok = verifyAuditFile(file);
    assert.equal(ok.ok, true);
    assert.equal(ok.entries, 4);
    assert.equal(ok.head_hash, again.headHash());

    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"lender"', '"admin"');
    writeFileSync(file, lines.join('\n'));
    const bad = verifyAuditFile(file);
    assert.equal(bad.ok, false);
    assert.equal(bad.first_bad_line, 2);
    // Removing a line breaks the chain at the line after it.
    const kept = readFileSync(file, 'utf8').split('\n');
    kept.splice(1, 1);
    writeFileSync(file, kept.join('\n'));
    assert.equal(verifyAuditFile(file).first_bad_line, 2);
  });
});
