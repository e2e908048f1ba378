/**
 * Plain cgminer / bfgminer / sgminer: the last family tried (docs/protocols.md, "## cgminer API framing"). Only a
 * positive signature counts — a `version` reply naming the miner software, or a successful reply whose
 * Description names it. A host that merely answers (an error, an unknown shape) is not claimed: it reads as
 * unsupported, not as a generic cgminer rig.
 */
import { type Identification, identified, type ReplyDigest } from '../kit/index.js';

export function recognize(d: ReplyDigest): Identification | null {
  const mk = d.minerKey;
  const descMiner = d.desc && /^(cgminer|bfgminer|sgminer)\b/i.test(d.desc) ? d.desc : null;
  if (!mk && !descMiner) return null;
  const evidence: string[] = [];
  if (mk) evidence.push(`${mk.key} "${mk.value}"`);
  if (descMiner) evidence.push(`Description "${descMiner}"`);
  return identified('cgminer', 'low', evidence, { firmware: mk ? `cgminer ${mk.value}` : descMiner });
}
