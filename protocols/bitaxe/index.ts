/** Bitaxe family (AxeOS over HTTP): its driver and its signature. */
export { createBitaxeDriver } from './driver.js';
export { parseBitaxe } from './parse.js';
export { recognize } from './recognize.js';

import type { FamilyModule } from '../kit/index.js';
import { createBitaxeDriver } from './driver.js';
import { recognize as recognizeBitaxe } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'bitaxe',
  recognize: recognizeBitaxe,
  createDriver: () => createBitaxeDriver(),
};
