/** Bitaxe signatures (docs/protocols.md, "## Bitaxe"): the AxeOS shape of `/api/system/info`, or the AxeOS page. */
import { type Identification, identified, type ReplyDigest } from '../kit/index.js';
import { isAxeOsInfo, parseBitaxe } from './parse.js';

export function recognize(d: ReplyDigest): Identification | null {
  if (isAxeOsInfo(d.httpInfo)) {
    const r = parseBitaxe(d.httpInfo);
    return identified('bitaxe', 'high', ['GET /api/system/info has the AxeOS shape (hashRate, ASICModel)'], {
      make: r.identity.make,
      model: r.identity.model,
      firmware: r.identity.firmware,
      mac: r.identity.mac,
    });
  }
  if (/AxeOS/i.test(d.httpBody))
    return identified('bitaxe', 'medium', ['web page says "AxeOS"'], { make: 'Bitaxe' });
  return null;
}
