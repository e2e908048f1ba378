/**
 * A base port for tests that need fixed ports (the emulator's `base_port`, a rig at a known port). Drawn from
 * 20,000–31,999, below Linux's ephemeral range (32,768–60,999): a port in that range can already be held by any
 * outgoing connection on the box, which made these tests fail with EADDRINUSE when it was busy.
 */
export function testBasePort(span = 100): number {
  return 20_000 + Math.floor(Math.random() * (12_000 - span));
}
