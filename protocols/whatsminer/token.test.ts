import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { RtError } from '../../lib/errors.js';
import { Secret } from '../../lib/secret.js';
import { readFixture } from '../fixtures.js';
import { decodeWhatsminer } from './decode.js';
import {
  decryptReply,
  decryptRequest,
  deriveSession,
  encryptCommand,
  encryptReply,
  md5crypt,
  md5cryptHash,
  parseTokenChallenge,
} from './token.js';

describe('md5crypt ($1$)', () => {
  it('matches published test vectors', () => {
    // passlib documentation, passlib.hash.md5_crypt example.
    assert.equal(md5crypt('password', '3azHgidD'), '$1$3azHgidD$SrJPt7B.9rekpmwJwtON31');
    // FreeBSD lib/libcrypt/tests/crypt_tests.c (LEET = "0.s0.l33t").
    assert.equal(
      md5crypt('0.s0.l33t', '$1$deadbeef$0Huu6KHrKLVWfqa4WljDE0'),
      '$1$deadbeef$0Huu6KHrKLVWfqa4WljDE0',
    );
    // OpenSSL passwd(1) manual: `openssl passwd -1 -salt xxxxxxxx password`.
    assert.equal(md5crypt('password', 'xxxxxxxx'), '$1$xxxxxxxx$UYCIxa628.9qXjpQCjM4a.');
    // Rust md5crypt crate documentation (musl crypt_md5.c based).
    assert.equal(md5crypt('hunter2', '1234abcd'), '$1$1234abcd$k941IFPqhCBpKvhOnZqRd/');
    // glibc-style reference vector: the salt is cut to 8 characters.
    assert.equal(md5crypt('Hello world!', '$1$saltstring'), '$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1');
  });

  it('agrees with `openssl passwd -1` on edge cases', (t) => {
    const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip('openssl not installed');
      return;
    }
    const cases: [string, string][] = [
      ['', ''],
      ['a', 'a'],
      ['admin', 'BQ5hoXV9'],
      ['x'.repeat(16), 'abc'],
      ['y'.repeat(17), 'abcdefgh'],
      ['a very much longer text to encrypt.  This one even stretches over morethan one line.', 'abcdefgh'],
      ['pässwörd€', 'ünï'],
    ];
    for (const [pw, salt] of cases) {
      const r = spawnSync('openssl', ['passwd', '-1', '-salt', salt, pw], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(md5crypt(pw, salt), r.stdout.trim(), `pw=${JSON.stringify(pw)} salt=${salt}`);
    }
  });

  it('md5cryptHash is the part after the last $', () => {
    assert.equal(md5cryptHash('password', '3azHgidD'), 'SrJPt7B.9rekpmwJwtON31');
  });
});

describe('Whatsminer v2 token scheme', () => {
  const challenge = { time: '6915', salt: 'BQ5hoXV9', newsalt: 'a5TtWui2' };

  it('reads the get_token fixture', () => {
    const value = decodeWhatsminer(readFixture('whatsminer_unknown_get-token.txt')).value;
    assert.deepEqual(parseTokenChallenge(value), challenge);
  });

  it('derives key and sign as docs/protocols.md, "## Whatsminer" describes (independently recomputed)', () => {
    const session = deriveSession(new Secret('admin'), challenge);
    const key = md5cryptHash('admin', 'BQ5hoXV9');
    assert.equal(key, 'RxmaDUO33TS7O26yeMHZ81', 'openssl passwd -1 -salt BQ5hoXV9 admin');
    assert.equal(session.sign, md5cryptHash(`${key}6915`, 'a5TtWui2'));
    assert.deepEqual(session.aesKey, createHash('sha256').update(key).digest());
  });

  it('envelope round trip: NUL padding, AES-256-ECB, base64, no PKCS#7', () => {
    const session = deriveSession(new Secret('admin'), challenge);
    const env = encryptCommand(session, 'set_led', 'auto');
    assert.equal(env.enc, 1);
    assert.match(env.data, /^[A-Za-z0-9+/]+=*$/);
    const raw = Buffer.from(env.data, 'base64');
    assert.equal(raw.length % 16, 0);
    assert.deepEqual(decryptRequest(session, env), { cmd: 'set_led', param: 'auto', token: session.sign });
    // Same bytes as an independent AES call on the NUL-padded plaintext.
    const plain = Buffer.from(JSON.stringify({ cmd: 'set_led', param: 'auto', token: session.sign }));
    const padded = Buffer.concat([plain, Buffer.alloc((16 - (plain.length % 16)) % 16)]);
    const c = createCipheriv('aes-256-ecb', session.aesKey, null);
    c.setAutoPadding(false);
    assert.equal(Buffer.concat([c.update(padded), c.final()]).toString('base64'), env.data);
    // Reply direction.
    const reply = { STATUS: 'S', When: 1, Code: 131, Msg: 'ok', Description: '' };
    assert.deepEqual(decryptReply(session, encryptReply(session, reply)), reply);
  });

  it('wrong key, broken base64 and bad replies are named errors', () => {
    const good = deriveSession(new Secret('admin'), challenge);
    const bad = deriveSession(new Secret('not-admin'), challenge);
    const enc = encryptReply(good, { STATUS: 'S', Code: 131 });
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof RtError ? e.code : 'other';
      }
      return 'none';
    };
    assert.equal(
      codeOf(() => decryptReply(bad, enc)),
      'RT_ERR_WHATSMINER_ENVELOPE',
    );
    assert.equal(
      codeOf(() => decryptReply(good, { enc: '!!notbase64' })),
      'RT_ERR_WHATSMINER_ENVELOPE',
    );
    assert.equal(
      codeOf(() => decryptReply(good, { enc: 'AAAA' })),
      'RT_ERR_WHATSMINER_ENVELOPE',
    );
    assert.equal(
      codeOf(() => decryptReply(good, 42)),
      'RT_ERR_WHATSMINER_ENVELOPE',
    );
    assert.equal(
      codeOf(() => parseTokenChallenge({ STATUS: 'E', Code: 136, Msg: 'token over max times' })),
      'RT_ERR_WHATSMINER_TOKEN_LIMIT',
    );
    assert.equal(
      codeOf(() => parseTokenChallenge({ STATUS: 'S', Code: 134, Msg: {} })),
      'RT_ERR_PROTO_DECODE',
    );
  });

  it('never exposes the password', () => {
    const pw = 'S3cret-Admin-Pw';
    const session = deriveSession(new Secret(pw), challenge);
    const env = encryptCommand(session, 'reboot');
    for (const text of [inspect(session), JSON.stringify(session), JSON.stringify(env)]) {
      assert.ok(!text.includes(pw));
    }
  });
});
