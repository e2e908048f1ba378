/** Plain cgminer family (and bfgminer/sgminer): its driver and its signature. */
export { CGMINER_PLAN, cgminerReadingFrom, createCgminerDriver } from './driver.js';
export { parseCgminer } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createCgminerDriver } from './driver.js';
import { recognize as recognizeCgminer } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'cgminer',
  recognize: recognizeCgminer,
  createDriver: () => createCgminerDriver(),
};
