/** Config built for the demo (`rigtel run` with no rigs configured): the emulated PDU that meters the emulated rigs. */
import { type SnmpConfig, snmpSection } from './sections/snmp.js';

/**
 * The `snmp` config section for the demo: one emulated PDU whose outlet i+1 feeds `rigs[i]` (by address), so
 * `npm start` shows metered power with source pdu. Pass the result to `startSnmpPoller`.
 */
export function demoSnmpSection(
  pdu: { port: number; host?: string; community?: string },
  rigs: ReadonlyArray<{ address: string }>,
  interval_ms = 10_000,
): SnmpConfig {
  const host = pdu.host ?? '127.0.0.1';
  return snmpSection.parse({
    devices: [
      {
        name: 'demo-pdu',
        address: `${host}:${pdu.port}`,
        community: pdu.community ?? 'public',
        interval_ms,
        timeout_ms: 1000,
      },
    ],
    map: rigs.map((r, i) => ({ rig: r.address, device: 'demo-pdu', outlet: i + 1 })),
  });
}
