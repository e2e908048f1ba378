import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../cli/main.js';
import { silentLogger } from '../collector/journal.js';
import { EmbeddedStore } from '../collector/sinks/embedded.js';
import { validateConfig } from '../config/load.js';
import { LoanService } from '../loans/service.js';
import { buildApp } from './app.js';
import { assertListenAllowed, rolesFor } from './auth.js';
import { TokenStore } from './tokens.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'rigtel-auth-'));
  dirs.push(d);
  return d;
};

const collateral = {
  tiers: [{ label: 'all', max_j_per_th: null, usd_per_th: 10 }],
  marked_on: '2026-11-01',
  source: 'test',
};
const facility = (id: string) => ({
  id,
  lender: `Lender ${id}`,
  principal_usd: 1000,
  rate_apr: 0.1,
  start: '2026-11-01',
  pledges: [{ mac: `aa:00:00:00:00:0${id.length}`, model: 'M', nominal_ths: 100, nominal_w: 3000 }],
  collateral,
});

function setup(dir: string) {
  const config = validateConfig({
    storage: { dir, journal_fsync: 'off' },
    emulator: { mode: 'off' },
    loans: { facilities: [facility('L1'), facility('L22')] },
  });
  const store = EmbeddedStore.open(dir, {
    rawRetentionHours: 1,
    rollupRetentionDays: 1,
    intervalMs: 30_000,
    backoffMaxMs: 60_000,
    log: silentLogger,
  });
  const loans = new LoanService({ config, store });
  const tokens = new TokenStore(dir);
  const app = buildApp({
    fleet: { list: () => [], get: () => undefined },
    history: store,
    health: {
      started_ms: Date.now(),
      sinks: () => [],
      polling: () => ({ rigs: 0, up: 0, last_sweep_ms: null, last_sweep_duration_ms: null }),
    },
    config,
    tokens,
    loans,
  });
  return { app, tokens, loans, store };
}

describe('API access over HTTP', () => {
  const dir = tmp();
  let env: ReturnType<typeof setup>;
  let base = '';
  let lender = '';
  let engineer = '';
  let admin = '';
  before(async () => {
    env = setup(dir);
    await env.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = env.app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  after(async () => {
    await env.app.close();
    env.loans.close();
    await env.store.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const get = (path: string, token?: string) =>
    fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it('with no token configured, loopback clients use the API as before', async () => {
    assert.equal((await get('/v1/rigs')).status, 200);
    assert.equal((await get('/v1/loans/L1')).status, 200);
    // A non-loopback peer is refused while no token exists (fastify inject sets the peer address; no traffic).
    const remote = await env.app.inject({ url: '/v1/rigs', remoteAddress: '10.1.2.3' });
    assert.equal(remote.statusCode, 403);
    assert.equal(remote.json().error.code, 'RT_ERR_API_NOT_LOOPBACK');
  });

  it('tokens: lender reads its loan only, engineer no money, revoked 401', async () => {
    lender = env.tokens.create('lender', 'L1', 'bank').token;
    engineer = env.tokens.create('engineer', null, null).token;
    admin = env.tokens.create('admin', null, null).token;
    assert.equal(statSync(join(dir, 'tokens.json')).mode & 0o777, 0o600);

    assert.equal((await get('/v1/rigs')).status, 401);
    const own = await get('/v1/loans/L1', lender);
    assert.equal(own.status, 200);
    assert.equal(((await own.json()) as { id: string }).id, 'L1');
    const other = await get('/v1/loans/L22', lender);
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { error: { code: string } }).error.code, 'RT_ERR_LOAN_NOT_FOUND');
    assert.equal((await get('/v1/loans/L22/report', lender)).status, 404);
    const list = (await (await get('/v1/loans', lender)).json()) as { loans: { id: string }[] };
    assert.deepEqual(
      list.loans.map((l) => l.id),
      ['L1'],
    );
    assert.equal((await get('/v1/rigs', lender)).status, 403);
    assert.equal((await get('/v1/fleet', lender)).status, 403);
    assert.equal((await get('/v1/keys', lender)).status, 200);
    assert.equal((await get('/loans/L1')).status, 200, 'the lender page itself is static and public');

    assert.equal((await get('/v1/rigs', engineer)).status, 200);
    for (const path of ['/v1/loans', '/v1/loans/L1', '/v1/keys', '/v1/economics/summary', '/v1/market'])
      assert.equal((await get(path, engineer)).status, 403, path);

    assert.equal((await get('/v1/loans/L22', admin)).status, 200);
    assert.equal((await get('/v1/rigs', admin)).status, 200);
    // The cookie the lender page sets works like the header; a cookie that is not %-decodable is a 401, not a 500.
    const withCookie = (cookie: string) => fetch(`${base}/v1/rigs`, { headers: { cookie } });
    assert.equal((await withCookie(`a=b; rigtel_token=${encodeURIComponent(admin)}`)).status, 200);
    assert.equal((await withCookie('rigtel_token=%E0%A4%A')).status, 401);
    // A known id with another secret of the same shape: the digest decides.
    const forged = `${admin.slice(0, admin.length - 4)}${admin.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    assert.equal((await get('/v1/rigs', forged)).status, 401);

    const id = lender.split('_')[1]!;
    env.tokens.revoke(id);
    const revoked = await get('/v1/loans/L1', lender);
    assert.equal(revoked.status, 401);
    assert.equal(
      ((await revoked.json()) as { error: { code: string } }).error.code,
      'RT_ERR_API_UNAUTHORIZED',
    );
    // A near-miss token (one character changed) is refused too.
    assert.equal(
      (await get('/v1/rigs', `${engineer.slice(0, -1)}${engineer.endsWith('A') ? 'B' : 'A'}`)).status,
      401,
    );
  });

  it('a token file written by the CLI is seen without restart', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: () => {}, env: {} };
    assert.equal(
      await main(['token', 'create', '--role', 'lender', '--loan', 'L22', '--storage', dir], io),
      0,
    );
    const token = out.join('').trim();
    assert.equal((await get('/v1/loans/L22', token)).status, 200);
    const id = token.split('_')[1]!;
    // The secret is base64url and may itself contain '_': it is everything after `rt_<id>_`.
    const secret = token.slice(`rt_${id}_`.length);
    assert.equal(secret.length, 43);
    out.length = 0;
    assert.equal(await main(['token', 'list', '--storage', dir], io), 0);
    assert.match(out.join(''), new RegExp(`${id}\\s+lender\\s+L22`));
    assert.ok(!out.join('').includes(secret), 'list never shows a secret');
    assert.equal(await main(['token', 'revoke', id, '--storage', dir], io), 0);
    assert.equal((await get('/v1/loans/L22', token)).status, 401);
    // Both changes are in the audit log, without the secret or its digest.
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    assert.match(audit, new RegExp(`"kind":"token".*"subject":"${id}"`));
    assert.ok(!audit.includes(secret));
    assert.ok(!audit.includes('sha256'));
  });

  it('failed authentication is rate limited; good tokens are not', async () => {
    let limited = 0;
    for (let i = 0; i < 25; i++) if ((await get('/v1/rigs', 'rt_nope')).status === 429) limited++;
    assert.ok(limited >= 4, `expected 429s after 20 failures, got ${limited}`);
    // An unknown path is no way around the limit (a 404 for a good token and a 401 for a bad one would tell).
    assert.equal((await get('/v1/no-such-route', 'rt_nope')).status, 429);
    for (let i = 0; i < 3; i++) assert.equal((await get('/v1/rigs', engineer)).status, 200);
  });
});

describe('listening without tokens', () => {
  it('routes default to admin+engineer; money routes are closed to engineers', () => {
    assert.deepEqual(rolesFor('/v1/some-future-route'), ['admin', 'engineer']);
    assert.deepEqual(rolesFor('/v1/loans/x/report'), ['admin', 'lender']);
    assert.equal(rolesFor('/healthz'), 'public');
    assert.equal(rolesFor('/'), 'public');
    assert.equal(rolesFor('/ui/app.js'), 'public');
    assert.deepEqual(rolesFor('/metrics'), ['admin', 'engineer']);
  });

  it('refuses a non-loopback api.listen when no token exists (checked before binding)', async () => {
    const dir = tmp();
    assert.throws(
      () => assertListenAllowed('0.0.0.0', '0.0.0.0:8080', new TokenStore(dir)),
      /RT_ERR_API_LISTEN_WITHOUT_TOKENS|refusing/,
    );
    assert.doesNotThrow(() => assertListenAllowed('127.0.0.1', '127.0.0.1:8080', new TokenStore(dir)));
    const file = join(dir, 'rigtel.yaml');
    writeFileSync(
      file,
      `storage:\n  dir: ${dir}\n  journal_fsync: 'off'\nemulator:\n  mode: 'off'\napi:\n  listen: 0.0.0.0:0\n`,
    );
    const err: string[] = [];
    const code = await main(['run', '--config', file], { out: () => {}, err: (t) => err.push(t), env: {} });
    assert.equal(code, 1);
    assert.match(err.join(''), /RT_ERR_API_LISTEN_WITHOUT_TOKENS/);
  });
});
