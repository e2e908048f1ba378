/** Innosilicon family: its driver and its signature. */
export { createInnosiliconDriver, INNOSILICON_PLAN } from './driver.js';
export { parseInnosilicon } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createInnosiliconDriver } from './driver.js';
import { recognize as recognizeInnosilicon } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'innosilicon',
  recognize: recognizeInnosilicon,
  createDriver: () => createInnosiliconDriver(),
};
