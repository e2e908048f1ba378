/** LuxOS family: its driver and its signature. */
export { createLuxosDriver, LUXOS_PLAN } from './driver.js';
export { parseLuxos } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createLuxosDriver } from './driver.js';
import { recognize as recognizeLuxos } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'luxos',
  recognize: recognizeLuxos,
  createDriver: () => createLuxosDriver(),
};
