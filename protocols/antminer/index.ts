/** Antminer family (stock bmminer and Bitmain-string firmwares): its driver and its signature. */
export { ANTMINER_PLAN, antminerReadingFrom, createAntminerDriver } from './driver.js';
export { parseAntminer } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createAntminerDriver } from './driver.js';
import { recognize as recognizeAntminer } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'antminer',
  recognize: recognizeAntminer,
  createDriver: () => createAntminerDriver(),
};
