import type { MinerDriver, PollTarget } from '../driver.js';
import type { Family } from '../sample.js';
import type { Identification, Recognize } from './recognize.js';

/**
 * What a family folder exports from its `index.ts` as `FAMILY`: its name, its signature test and a factory for
 * its driver (a new instance holds its own per-address caches, so no state is shared between collectors).
 */
export interface FamilyModule {
  readonly family: Exclude<Family, 'unknown'>;
  readonly recognize: Recognize;
  readonly createDriver: () => MinerDriver;
  /**
   * For a family with a transport of its own (Whatsminer API v3's length-framed JSON): a handshake tried when
   * the cgminer-style probes got no answer at all. Null when the host does not speak it.
   */
  readonly probe?: (target: PollTarget, signal: AbortSignal) => Promise<Identification | null>;
}
