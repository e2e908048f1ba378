/** Braiins OS family: its driver and its signature. */
export { BRAIINS_PLAN, createBraiinsDriver } from './driver.js';
export { parseBraiins } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createBraiinsDriver } from './driver.js';
import { recognize as recognizeBraiins } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'braiins',
  recognize: recognizeBraiins,
  createDriver: () => createBraiinsDriver(),
};
