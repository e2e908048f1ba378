import type { MinerDriver } from '../driver.js';
import type { Family } from '../sample.js';
import type { Recognize } from './recognize.js';

/**
 * What a family folder exports from its `index.ts` as `FAMILY`: its name, its signature test and a factory for
 * its driver (a new instance holds its own per-address caches, so no state is shared between collectors).
 */
export interface FamilyModule {
  readonly family: Exclude<Family, 'unknown'>;
  readonly recognize: Recognize;
  readonly createDriver: () => MinerDriver;
}
