/**
 * VNish signatures (docs/protocols.md, "## VNish"): "(vnish x.y.z)" in Type — in `version`, or only in `stats`
 * on VNish 2.0.3, whose `version` has no Type (vnish_s17plus_version.txt) — or the AnthillOS web page.
 */
import { type Identification, identified, type ReplyDigest } from '../kit/index.js';

export function recognize(d: ReplyDigest): Identification | null {
  if (!/vnish/i.test(d.all) && !/AnthillOS/i.test(d.httpBody)) return null;
  const vv = d.typeSuffix ? /vnish\s*([\w.]+)/i.exec(d.typeSuffix)?.[1] : undefined;
  const mk = d.minerKey;
  const evidence = [
    d.type && /vnish/i.test(d.type)
      ? `Type "${d.type}"`
      : /AnthillOS/i.test(d.httpBody)
        ? 'web page says "AnthillOS"'
        : 'reply mentions VNish',
  ];
  return identified('vnish', d.type ? 'high' : 'medium', evidence, {
    make: 'Bitmain',
    model: d.typeModel,
    firmware: vv ? `VNish ${vv}${mk ? ` (cgminer ${mk.value})` : ''}` : 'VNish',
  });
}
