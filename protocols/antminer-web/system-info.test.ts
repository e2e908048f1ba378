import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import { Secret } from '../../lib/secret.js';
import { parseSystemInfo, readSystemInfo } from './system-info.js';

// Shape from docs/protocols.md, "## Antminer" (pyasic / asic-rs); values are made up for this test server.
const INFO = {
  minertype: 'Antminer S19 Pro',
  nettype: 'DHCP',
  macaddr: 'C4:11:04:AA:BB:CC',
  hostname: 'Antminer',
  ipaddress: '127.0.0.1',
  system_filesystem_version: 'Thu Apr 11 16:19:51 CST 2022',
  serinum: 'HTX1234567890',
};
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
let server: http.Server;
let port = 0;
let requests = 0;

before(async () => {
  server = http.createServer((req, res) => {
    requests++;
    const f = new Map<string, string>();
    for (const m of (req.headers.authorization ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
      f.set(m[1]!, m[2] ?? m[3] ?? '');
    }
    const ha1 = md5(`root:antMiner Configuration:root`);
    const ha2 = md5(`GET:${f.get('uri')}`);
    const ok =
      f.get('response') === md5(`${ha1}:${f.get('nonce')}:${f.get('nc')}:${f.get('cnonce')}:auth:${ha2}`);
    if (!ok) {
      res.writeHead(401, {
        'www-authenticate': `Digest realm="antMiner Configuration", nonce="${randomBytes(6).toString('hex')}", qop="auth"`,
      });
      res.end();
      return;
    }
    res.end(JSON.stringify(INFO));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
after(() => new Promise((r) => server.close(r)));

test('serial and MAC read through digest auth', async () => {
  const info = await readSystemInfo({
    host: '127.0.0.1',
    port,
    username: 'root',
    password: new Secret('root'),
    connectTimeoutMs: 1000,
    deadlineMs: 3000,
  });
  assert.deepEqual(info, {
    model: 'Antminer S19 Pro',
    serial: 'HTX1234567890',
    mac: 'c4:11:04:aa:bb:cc',
    hostname: 'Antminer',
    firmware: 'Thu Apr 11 16:19:51 CST 2022',
  });
});

test('without a password the 401 is RT_ERR_PROTO_AUTH', async () => {
  await assert.rejects(
    readSystemInfo({ host: '127.0.0.1', port, connectTimeoutMs: 1000, deadlineMs: 3000 }),
    { code: 'RT_ERR_PROTO_AUTH' },
  );
  assert.ok(requests > 0);
});

test('garbage bodies give null, not a crash', () => {
  assert.equal(parseSystemInfo('nope'), null);
  assert.equal(parseSystemInfo({}), null);
  assert.equal(parseSystemInfo({ macaddr: 'zz' }), null);
});
