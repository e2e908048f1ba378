/** SnmpClient details against a real net-snmp agent on loopback: Counter64 values, aborts, closed clients. */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import snmp, { type Agent } from 'net-snmp';
import { Secret } from '../../lib/secret.js';
import { SnmpClient, type SnmpTarget } from './client.js';

let agent: Agent;
let port: number;
const C64 = '1.3.6.1.4.1.99999.9.1';
const C32 = '1.3.6.1.4.1.99999.9.2';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  port = await freePort();
  agent = snmp.createAgent({ port, address: '127.0.0.1' }, () => {});
  agent.getAuthorizer().addCommunity('c64');
  const mib = agent.getMib();
  const ro = snmp.MaxAccess['read-only'];
  mib.registerProvider({
    name: 'big',
    type: snmp.MibProviderType.Scalar,
    oid: C64,
    scalarType: snmp.ObjectType.Counter64,
    maxAccess: ro,
  });
  mib.registerProvider({
    name: 'small',
    type: snmp.MibProviderType.Scalar,
    oid: C32,
    scalarType: snmp.ObjectType.Counter,
    maxAccess: ro,
  });
  const big = Buffer.alloc(8);
  big.writeBigUInt64BE(2n ** 40n + 5n);
  mib.setScalarValue('big', big);
  mib.setScalarValue('small', 4_000_000_000);
});
after(async () => {
  await new Promise<void>((resolve) => agent.close(() => resolve()));
});

const target = (): SnmpTarget => ({
  host: '127.0.0.1',
  port,
  version: 'v2c',
  community: new Secret('c64'),
  timeout_ms: 2000,
  retries: 1,
  max_repetitions: 10,
});

describe('SnmpClient', () => {
  it('reads Counter64 (a Buffer on the wire) and Counter32 as numbers', async () => {
    const c = new SnmpClient(target());
    try {
      const [big, small] = await c.get([`${C64}.0`, `.${C32}.0`]);
      assert.equal(big!.value, 2 ** 40 + 5);
      assert.equal(small!.value, 4_000_000_000);
      // A scalar walked as a column is a one-row table with index 0 (generic profiles rely on it).
      const cols = await c.walkColumns([C64]);
      assert.deepEqual([...cols.get(C64)!.entries()], [['0', 2 ** 40 + 5]]);
    } finally {
      c.close();
    }
  });

  it('an aborted request rejects with the abort reason and the client keeps working', async () => {
    const c = new SnmpClient({ ...target(), port: 9, timeout_ms: 30_000 });
    try {
      const ac = new AbortController();
      const p = c.get([`${C64}.0`], ac.signal);
      ac.abort();
      await assert.rejects(p, { code: 'RT_ERR_SNMP_ABORTED' });
    } finally {
      c.close();
    }
    const ok = new SnmpClient(target());
    try {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(ok.get([`${C64}.0`], ac.signal), { code: 'RT_ERR_SNMP_ABORTED' });
      assert.equal((await ok.get([`${C64}.0`]))[0]!.value, 2 ** 40 + 5);
    } finally {
      ok.close();
    }
  });

  it('a closed client refuses new requests with a named error', async () => {
    const c = new SnmpClient(target());
    c.close();
    await assert.rejects(c.get([`${C64}.0`]), { code: 'RT_ERR_SNMP_ABORTED' });
  });
});
