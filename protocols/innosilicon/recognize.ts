/**
 * Innosilicon signatures (docs/protocols.md, "## Innosilicon"): "innominer" in a Description or reply, the
 * DragonMint web page, or stats in numbered STATS0… sections (old firmware, innosilicon_a9_stats_2.txt).
 */
import { type Identification, identified, isObj, type ReplyDigest } from '../kit/index.js';

export function recognize(d: ReplyDigest): Identification | null {
  const numberedStats = isObj(d.statsBody) && 'STATS0' in d.statsBody;
  const descInno = d.desc !== null && /innominer/i.test(d.desc);
  if (!/innominer/i.test(d.all) && !descInno && !/DragonMint/i.test(d.httpBody) && !numberedStats)
    return null;
  const evidence = [
    descInno
      ? `Description "${d.desc}"`
      : numberedStats
        ? 'stats in numbered STATS0… sections (old Innosilicon firmware)'
        : 'innominer / DragonMint signature',
  ];
  const m = d.desc ? /innominer\s+([a-z]\d+\+?)/i.exec(d.desc)?.[1] : undefined;
  return identified('innosilicon', descInno ? 'high' : 'medium', evidence, {
    make: 'Innosilicon',
    model: m ? m.toUpperCase() : null,
    firmware: descInno ? d.desc : null,
  });
}
