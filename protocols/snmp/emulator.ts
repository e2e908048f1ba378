/**
 * An emulated APC rPDU2 metered-outlet PDU (net-snmp's own agent) on a loopback UDP port, for `npm start`'s
 * demo fleet and the SNMP benchmark. Outlet n is named "rig-NN"; power wanders around a S19-class draw and
 * energy counts up, so the demo shows live metered power.
 *
 * Run directly: `node --import tsx protocols/snmp/emulator.ts [--outlets 24] [--port 16161]` prints
 * `{"port":…}` and serves until killed.
 */
import { createSocket } from 'node:dgram';
import snmp from 'net-snmp';

export interface EmulatedPduOptions {
  host?: string;
  /** 0 or omitted: a free port. */
  port?: number;
  outlets: number;
  community?: string;
  /** Optional SNMPv3 user (SHA + AES) to exercise v3 against the emulator. */
  v3?: { user: string; auth_key: string; priv_key: string };
  /** How often values change (ms). */
  tick_ms?: number;
  /** Mean draw of outlet n (1-based), W; default 3250 W (an S19-class miner). */
  baseWatts?: (outlet: number) => number;
}

export interface EmulatedPdu {
  port: number;
  /** Current watts of outlet n (1-based), as served. */
  watts(outlet: number): number;
  close(): Promise<void>;
}

const ENTRY = '1.3.6.1.4.1.318.1.1.26.9.4.3.1';
const TABLE = 'rPDU2OutletMeteredStatusEntry';

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startEmulatedPdu(opts: EmulatedPduOptions): Promise<EmulatedPdu> {
  const host = opts.host ?? '127.0.0.1';
  if (!/^(127\.|::1$|localhost$)/.test(host)) {
    // The emulator is a demo/test device: keep it off real networks.
    throw new Error(`emulated PDU must listen on loopback, not ${host}`);
  }
  const port = opts.port || (await freePort(host));
  const community = opts.community ?? 'public';
  const n = Math.max(1, Math.floor(opts.outlets));
  const agent = snmp.createAgent(
    {
      port,
      address: host === 'localhost' ? '127.0.0.1' : host,
      transport: host.includes(':') ? 'udp6' : 'udp4',
    },
    () => {},
  );
  agent.getAuthorizer().addCommunity(community);
  if (opts.v3) {
    agent.getAuthorizer().addUser({
      name: opts.v3.user,
      level: snmp.SecurityLevel.authPriv,
      authProtocol: snmp.AuthProtocols.sha,
      authKey: opts.v3.auth_key,
      privProtocol: snmp.PrivProtocols.aes,
      privKey: opts.v3.priv_key,
    });
  }
  const ro = snmp.MaxAccess['read-only'];
  const int = snmp.ObjectType.Integer;
  const mib = agent.getMib();
  // The provider is registered at the Entry OID, not the table OID (docs/protocols.md "SNMP").
  mib.registerProvider({
    name: TABLE,
    type: snmp.MibProviderType.Table,
    oid: ENTRY,
    maxAccess: snmp.MaxAccess['not-accessible'],
    tableColumns: [
      { number: 1, name: 'Index', type: int, maxAccess: ro },
      { number: 2, name: 'Module', type: int, maxAccess: ro },
      { number: 3, name: 'Name', type: snmp.ObjectType.OctetString, maxAccess: ro },
      { number: 4, name: 'Number', type: int, maxAccess: ro },
      { number: 5, name: 'State', type: int, maxAccess: ro },
      { number: 6, name: 'Current', type: int, maxAccess: ro },
      { number: 7, name: 'Power', type: int, maxAccess: ro },
      { number: 8, name: 'PeakPower', type: int, maxAccess: ro },
      { number: 11, name: 'Energy', type: int, maxAccess: ro },
    ],
    tableIndex: [{ columnName: 'Index' }],
  });
  const t0 = Date.now();
  const watts = new Array<number>(n + 1).fill(0);
  const energy = new Array<number>(n + 1).fill(0);
  const base = opts.baseWatts ?? (() => 3250);
  // About ±5 % slow wander plus a little fast ripple around each outlet's mean draw.
  const powerAt = (i: number, t: number) => {
    const mean = base(i);
    return Math.max(
      0,
      Math.round(mean * (1 + 0.046 * Math.sin(t / 20 + i * 0.7) + 0.012 * Math.sin(t / 3 + i))),
    );
  };
  for (let i = 1; i <= n; i++) {
    watts[i] = powerAt(i, 0);
    energy[i] = 10_000 + i * 37; // tenths of kWh
    mib.addTableRow(TABLE, [
      i,
      1,
      `rig-${String(i).padStart(2, '0')}`,
      i,
      2,
      Math.round(watts[i]! / 23),
      watts[i],
      3600,
      energy[i],
    ]);
  }
  let last = Date.now();
  let energyFrac = new Array<number>(n + 1).fill(0);
  const tick = setInterval(() => {
    const nowMs = Date.now();
    const t = (nowMs - t0) / 1000;
    const dtH = (nowMs - last) / 3_600_000;
    last = nowMs;
    for (let i = 1; i <= n; i++) {
      const w = powerAt(i, t);
      watts[i] = w;
      // energy in tenths of kWh: W × h / 100
      energyFrac[i] = energyFrac[i]! + (w * dtH) / 100;
      const whole = Math.floor(energyFrac[i]!);
      energyFrac[i] = energyFrac[i]! - whole;
      energy[i] = energy[i]! + whole;
      mib.setTableSingleCell(TABLE, 7, [i], w);
      mib.setTableSingleCell(TABLE, 6, [i], Math.round(w / 23));
      if (whole) mib.setTableSingleCell(TABLE, 11, [i], energy[i]);
    }
  }, opts.tick_ms ?? 1000);
  tick.unref();
  return {
    port,
    watts: (i) => watts[i] ?? Number.NaN,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(tick);
        energyFrac = [];
        // The agent binds its UDP socket asynchronously; closing before the bind completes throws EBADF from
        // getsockname and would leave the socket open (and the process alive). Retry until it is bound.
        const attempt = (left: number) => {
          try {
            agent.close(() => resolve());
          } catch (err) {
            if (left > 0) setTimeout(() => attempt(left - 1), 20);
            else throw err;
            return;
          }
          // agent.close calls back once per socket; resolve anyway if it does not.
          setTimeout(resolve, 200).unref();
        };
        attempt(50);
      }),
  };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const pdu = await startEmulatedPdu({
    outlets: arg('outlets', 24),
    port: arg('port', 0),
    community: 'public',
  });
  process.stdout.write(`${JSON.stringify({ port: pdu.port })}\n`);
  const shutdown = () => void pdu.close().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
