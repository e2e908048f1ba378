/**
 * Whatsminer signatures (docs/protocols.md, "## Whatsminer"): btminer names itself in the Description of a
 * successful reply ("btminer"), or in the `devdetails` Driver ("bitmicro"); builds that say only "cgminer 4.9.2"
 * or refuse `version` are known by the keys no other family's `summary` carries: `HS RT`, `Power_RT`,
 * `Factory GHS`, `Fan Speed In`/`Fan Speed Out` (whatsminer_m31s_summary.txt, whatsminer_m3_summary.txt).
 */
import {
  type Identification,
  identified,
  normMac,
  type PollTarget,
  type ReplyDigest,
  str,
} from '../kit/index.js';
import { v3Command } from './client.js';
import { identifyWhatsminer } from './parse.js';

const SUMMARY_KEYS = ['HS RT', 'Power_RT', 'Factory GHS', 'Fan Speed In', 'Fan Speed Out'];

export function recognize(d: ReplyDigest): Identification | null {
  const descHit = d.desc !== null && /btminer|bitmicro|whatsminer/i.test(d.desc);
  const ddDriver = str(d.dd?.['Driver']);
  const ddHit = ddDriver !== null && /bitmicro|btminer/i.test(ddDriver);
  const keys = d.summary ? SUMMARY_KEYS.filter((k) => k in d.summary!) : [];
  // Two of the keys, so that one stray field of another firmware is not enough.
  const keyHit = keys.length >= 2;
  if (!descHit && !ddHit && !keyHit) return null;
  const evidence: string[] = [];
  if (descHit) evidence.push(`Description "${d.desc}"`);
  if (ddHit) evidence.push(`devdetails Driver "${ddDriver}"`);
  if (keyHit) evidence.push(`summary has the Whatsminer keys ${keys.map((k) => `"${k}"`).join(', ')}`);
  const m = str(d.dd?.['Model']);
  const fw = str(d.summary?.['Firmware Version'])?.replace(/^\\?'|\\?'$/g, '') ?? null;
  return identified('whatsminer', descHit || ddHit ? 'high' : 'medium', evidence, {
    make: 'MicroBT',
    model: m ? `Whatsminer ${m.replace(/^Whatsminer\s*/i, '')}` : null,
    firmware: descHit ? d.desc : (fw ?? d.desc),
    mac: normMac(d.summary?.['MAC']),
  });
}

/**
 * API v3 handshake (docs/protocols.md, "## Whatsminer"): `get.device.info` in the length-framed JSON that
 * 2024-11+ builds speak on 4433, where the cgminer-style probes get no answer. Null when the host does not
 * answer it that way.
 */
export async function probeV3(target: PollTarget, signal: AbortSignal): Promise<Identification | null> {
  try {
    const reply = await v3Command(target, 'get.device.info', undefined, signal, target.port);
    const id = identifyWhatsminer(reply.body);
    if (!id) return null;
    return identified('whatsminer', 'high', ['answers the API v3 get.device.info in v3 framing'], {
      make: 'MicroBT',
      model: id.model,
      firmware: id.firmware,
    });
  } catch {
    return null;
  }
}
