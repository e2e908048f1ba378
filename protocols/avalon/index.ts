/** Avalon family (Canaan): its driver and its signature. */
export { AVALON_PLAN, createAvalonDriver } from './driver.js';
export { parseAvalon } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createAvalonDriver } from './driver.js';
import { recognize as recognizeAvalon } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'avalon',
  recognize: recognizeAvalon,
  createDriver: () => createAvalonDriver(),
};
