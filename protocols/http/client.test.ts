import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Secret } from '../../lib/secret.js';
import { httpGetJson, httpRequest } from './client.js';
import { digestAuthorization, parseDigestChallenge } from './digest.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

test('RFC 2617 docs/protocols.md, "## Whatsminer" example response', () => {
  const challenge = parseDigestChallenge(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  assert.ok(challenge);
  const header = digestAuthorization({
    method: 'GET',
    uri: '/dir/index.html',
    username: 'Mufasa',
    password: new Secret('Circle Of Life'),
    challenge,
    nc: 1,
    cnonce: '0a4f113b',
  });
  assert.match(header, /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(header, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
  assert.match(header, /nc=00000001/);
});

test('non-Digest challenges are not parsed as Digest', () => {
  assert.equal(parseDigestChallenge('Basic realm="x"'), null);
  assert.equal(parseDigestChallenge('Digest realm="x"'), null);
});

// A loopback server that checks Digest itself (RFC 2617 qop=auth, MD5) before serving JSON.
const REALM = 'antMiner Configuration';
const USER = 'root';
const PASS = 'hunter2-secret';
let server: http.Server;
let port = 0;
let silent: net.Server;
let silentPort = 0;
let garbage: net.Server;
let garbagePort = 0;
const openSockets = new Set<net.Socket>();

function verify(header: string, method: string): boolean {
  const f = new Map<string, string>();
  for (const m of header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) f.set(m[1]!, m[2] ?? m[3] ?? '');
  const ha1 = md5(`${f.get('username')}:${REALM}:${PASS}`);
  const ha2 = md5(`${method}:${f.get('uri')}`);
  const want = md5(`${ha1}:${f.get('nonce')}:${f.get('nc')}:${f.get('cnonce')}:auth:${ha2}`);
  return f.get('username') === USER && f.get('response') === want;
}

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/big') {
      res.end('x'.repeat(100_000));
      return;
    }
    const auth = req.headers.authorization;
    if (!auth || !verify(auth, req.method ?? 'GET')) {
      const nonce = randomBytes(8).toString('hex');
      res.writeHead(401, { 'www-authenticate': `Digest realm="${REALM}", nonce="${nonce}", qop="auth"` });
      res.end('denied');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, path: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  silent = net.createServer((s) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as net.AddressInfo).port;
  garbage = net.createServer((s) => s.end('STATUS=S,When=1|garbage\n\n'));
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
  garbagePort = (garbage.address() as net.AddressInfo).port;
});

after(async () => {
  for (const s of openSockets) s.destroy();
  await Promise.all([server, silent, garbage].map((s) => new Promise((r) => s.close(r))));
});

const base = () => ({ host: '127.0.0.1', port, connectTimeoutMs: 1000, deadlineMs: 3000, maxBytes: 10_000 });

test('digest challenge answered with the right password', async () => {
  const { value } = await httpGetJson({
    ...base(),
    path: '/cgi-bin/get_system_info.cgi',
    auth: { username: USER, password: new Secret(PASS) },
  });
  assert.deepEqual(value, { ok: true, path: '/cgi-bin/get_system_info.cgi' });
});

test('wrong password → RT_ERR_PROTO_AUTH, and the password never appears in the error', async () => {
  const wrong = 'not-the-password-xyz';
  await assert.rejects(
    httpGetJson({ ...base(), path: '/x', auth: { username: USER, password: new Secret(wrong) } }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'RT_ERR_PROTO_AUTH');
      assert.ok(!JSON.stringify(err).includes(wrong) && !err.message.includes(wrong));
      return true;
    },
  );
});

test('no credentials: the 401 is reported as an auth failure', async () => {
  const reply = await httpRequest({ ...base(), path: '/x' });
  assert.equal(reply.status, 401);
  await assert.rejects(httpGetJson({ ...base(), path: '/x' }), { code: 'RT_ERR_PROTO_AUTH' });
});

test('a body over the cap is cut off with RT_ERR_PROTO_REPLY_TOO_LARGE', async () => {
  await assert.rejects(httpRequest({ ...base(), path: '/big' }), { code: 'RT_ERR_PROTO_REPLY_TOO_LARGE' });
});

test('a host that accepts and never answers hits the deadline', async () => {
  await assert.rejects(httpRequest({ ...base(), port: silentPort, path: '/', deadlineMs: 300 }), {
    code: 'RT_ERR_PROTO_TIMEOUT',
  });
});

test('a non-HTTP reply is a named error, not a crash', async () => {
  await assert.rejects(
    httpRequest({ ...base(), port: garbagePort, path: '/' }),
    (err: Error & { code?: string }) => {
      assert.ok(
        ['RT_ERR_PROTO_HTTP_BAD_REPLY', 'RT_ERR_PROTO_RESET', 'RT_ERR_PROTO_EMPTY_REPLY'].includes(err.code!),
      );
      return true;
    },
  );
});

test('refused port → RT_ERR_PROTO_CONNECT_REFUSED', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const freePort = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  await assert.rejects(httpRequest({ ...base(), port: freePort, path: '/' }), {
    code: 'RT_ERR_PROTO_CONNECT_REFUSED',
  });
});
