/**
 * Braiins OS / BOS+ signatures (docs/protocols.md, "## Braiins OS"): a BOSminer, BOSminer+ or BOSer key in
 * `version`, a BOSminer Description, the 2018 bmminer-based bOS naming itself in Type ("braiins-am1-s9") or in
 * its BMMiner build ("bOS_am1-s9-…"), or the web page.
 */
import { type Identification, identified, type ReplyDigest, str } from '../kit/index.js';
import { braiinsFirmware, modelFromBuild } from './parse.js';

export function recognize(d: ReplyDigest): Identification | null {
  const ver = d.ver;
  const bosKey = ver ? ['BOSer', 'BOSminer+', 'BOSminer'].find((k) => str(ver[k])) : undefined;
  const descBos = d.desc !== null && /bos(miner|er)/i.test(d.desc);
  const typeBos = d.type !== null && /^braiins/i.test(d.type);
  if (bosKey || descBos || typeBos || /\bbOS_/.test(d.minerKey?.value ?? '')) {
    const evidence: string[] = [];
    if (bosKey) evidence.push(`version has a ${bosKey} key`);
    if (descBos) evidence.push(`Description "${d.desc}"`);
    if (typeBos) evidence.push(`Type "${d.type}"`);
    if (!evidence.length) evidence.push(`${d.minerKey!.key} "${d.minerKey!.value}" is a bOS build`);
    const ddModel = str(d.dd?.['Model']);
    const model =
      (ddModel ? `Antminer ${ddModel.replace(/^(Bitmain\s+)?(Antminer\s+)?/i, '')}` : null) ??
      modelFromBuild(d.type) ??
      modelFromBuild(d.minerKey?.value ?? null) ??
      modelFromBuild(d.desc);
    return identified('braiins', bosKey || typeBos ? 'high' : 'medium', evidence, {
      make: 'Bitmain',
      model,
      firmware: braiinsFirmware(d.version, d.desc),
    });
  }
  if (/Braiins OS/i.test(d.httpBody)) {
    return identified('braiins', 'medium', ['web page says "Braiins OS"'], { make: 'Bitmain' });
  }
  return null;
}
