/**
 * The emulator checks itself with the same plausibility rules as the collector: every personality of the
 * built-in fleet, with its figures drifting, reads back with no figure outside the physical bounds or the
 * nameplate check. An emulated rig that tripped them would teach users to ignore the notes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmulatedFleet } from '../protocols/emulator/fleet.js';
import { checkPlausibility } from '../protocols/plausibility.js';
import { pollOnce } from '../protocols/registry.js';

describe('emulated fleet is plausible', () => {
  it('every personality passes checkPlausibility, twice over time', async (t) => {
    const fleet = await startEmulatedFleet({
      count: 24,
      host: '127.0.0.1',
      basePort: 0,
      mix: 'mixed',
      seed: 5,
    });
    t.after(() => fleet.stop());
    for (let round = 0; round < 2; round++) {
      for (const rig of fleet.rigs) {
        const reading = await pollOnce(
          {
            host: rig.host,
            port: rig.port,
            family: rig.family === 'unknown' ? 'auto' : rig.family,
            connectTimeoutMs: 2000,
            commandTimeoutMs: 5000,
            maxReplyBytes: 1024 * 1024,
          },
          AbortSignal.timeout(20_000),
        );
        const { flagged } = checkPlausibility(reading);
        assert.deepEqual(flagged, [], `${rig.name} (${rig.personality}): ${reading.notes.join('; ')}`);
      }
      await new Promise((r) => setTimeout(r, 1500));
    }
  });
});
