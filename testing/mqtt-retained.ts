/**
 * Test clean-up on the shared broker: every retained message under a topic prefix is cleared (an empty retained
 * publish), so a test run leaves nothing for the next one (or another engineer's run) to read.
 */
import mqtt from 'mqtt';

export async function clearRetained(broker: string, prefix: string, settleMs = 500): Promise<void> {
  const sub = await mqtt.connectAsync(broker, { clientId: `${prefix}-clean`, clean: true });
  const retained = new Set<string>();
  sub.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length) retained.add(topic);
  });
  await sub.subscribeAsync(`${prefix}/#`, { qos: 1 });
  // Retained messages arrive right after the subscription; give the broker a moment to send them all.
  await new Promise((r) => setTimeout(r, settleMs));
  for (const t of retained) await sub.publishAsync(t, '', { qos: 1, retain: true });
  await sub.endAsync();
}
