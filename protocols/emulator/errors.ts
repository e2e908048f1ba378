import { defineError } from '../../lib/errors.js';

/** Failures of the emulated fleet (demo rigs and test servers). */
export const EmuErrors = {
  unknownPersonality: defineError<[string, string]>(
    'RT_ERR_EMU_UNKNOWN_PERSONALITY',
    'no emulated rig personality has that name',
    (name, known) => `no emulated rig personality named '${name}' (known: ${known})`,
    400,
  ),
  badFault: defineError<[string]>(
    'RT_ERR_EMU_BAD_FAULT',
    'unknown fault mode for an emulated rig',
    (mode) =>
      `unknown fault mode '${mode}' (use none, hang, drip, reset, garbage, oversize, refuse, empty or slow)`,
    400,
  ),
  fixturesMissing: defineError<[string]>(
    'RT_ERR_EMU_FIXTURES_MISSING',
    'the real miner replies the emulator replays were not found',
    (dir) =>
      `emulator fixtures not found in ${dir} (the repo keeps them in protocols/fixtures/real; RIGTEL_FIXTURES_DIR points elsewhere)`,
  ),
  listen: defineError<[string, string]>(
    'RT_ERR_EMU_LISTEN',
    'an emulated rig could not listen on its address',
    (addr, why) => `emulated rig cannot listen on ${addr}: ${why}`,
  ),
  badFleetSize: defineError<[number]>(
    'RT_ERR_EMU_BAD_FLEET_SIZE',
    'the emulated fleet size must be a whole number from 1 to 20000',
    (n) => `emulated fleet size ${n} is not a whole number from 1 to 20000`,
    400,
  ),
  child: defineError<[string]>(
    'RT_ERR_EMU_CHILD',
    'the emulator child process failed',
    (why) => `emulator child process failed: ${why}`,
  ),
} as const;
