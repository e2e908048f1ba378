/** VNish family: its driver and its signature. */
export { createVnishDriver, VNISH_PLAN } from './driver.js';
export { parseVnish } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createVnishDriver } from './driver.js';
import { recognize as recognizeVnish } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'vnish',
  recognize: recognizeVnish,
  createDriver: () => createVnishDriver(),
};
