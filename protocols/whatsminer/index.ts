/** Public surface of the Whatsminer (MicroBT btminer) protocol module. */
export { DEFAULT_V3_PORT, type RequestKey, v2Command, v2Joined, v3Command } from './client.js';
export { decodeWhatsminer, replyError, statusOf } from './decode.js';
export {
  createWhatsminerDriver,
  type WhatsminerDriver,
  type WhatsminerGeneration,
  type WhatsminerPoll,
  whatsminerDriver,
} from './driver.js';
export { WhatsminerErrors } from './errors.js';
export { encodeV3Frame, takeV3Frame, v3Request } from './frame.js';
export {
  identifyWhatsminer,
  type PsuInfo,
  parseErrorCodes,
  parsePsu,
  parseReply,
  parseWhatsminer,
  type WhatsminerCommand,
  type WhatsminerIdentity,
  type WhatsminerParts,
  whatsminerModelName,
} from './parse.js';
export { parseWhatsminerV3, v3Msg, type WhatsminerV3Parts } from './parse-v3.js';
export { recognize } from './recognize.js';
export {
  decryptReply,
  deriveSession,
  encryptCommand,
  md5crypt,
  md5cryptHash,
  type PrivilegedSession,
  parseTokenChallenge,
  type TokenChallenge,
} from './token.js';

import type { FamilyModule } from '../kit/index.js';
import { createWhatsminerDriver } from './driver.js';
import { probeV3, recognize as recognizeWhatsminer } from './recognize.js';

export const FAMILY: FamilyModule = {
  family: 'whatsminer',
  recognize: recognizeWhatsminer,
  createDriver: () => createWhatsminerDriver(),
  probe: probeV3,
};
