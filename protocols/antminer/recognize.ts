/**
 * Antminer signatures (docs/protocols.md, "## Antminer"): `Type` "Antminer …" with a BMMiner/CGMiner key, the
 * antMiner digest realm of the web UI, and the firmwares that keep Bitmain's strings: Hiveon ("Antminer S9
 * Hiveon", BMMiner "2.0.0 rwglr"), MSKminer ("rwglr" without Hiveon), asicseer and Blissz.
 *
 * Stock is claimed only when the reply looks stock: a reply with the Antminer shape that names a firmware rigtel
 * does not know (a parenthesised or trailing name after a known model, or no known miner-software key) is
 * still read as an Antminer, but with `unknown_firmware` set so the reading is `partial` with a note.
 */
import { type Identification, identified, lookupModel, type ReplyDigest, str } from '../kit/index.js';
import { cleanAntminerModel } from './parse.js';

const KNOWN_KEYS = new Set(['BMMiner', 'CGMiner', 'Cgminer']);
/** VERSION keys every Bitmain build sends beside its miner-software key. */
const STANDARD_KEYS = new Set(['API', 'Miner', 'CompileTime', 'Type', 'VER']);

/** What, in a `Type`, is neither the model nor a firmware rigtel knows; null when nothing is. */
function unknownDecoration(type: string): string | null {
  const line = type.split('\n')[0]!.trim();
  const paren = /\(([^)]*)\)\s*$/.exec(line)?.[1]?.trim();
  if (paren && /[a-z]{2,}/i.test(paren) && !/^v?\d/i.test(paren)) return paren;
  const model = cleanAntminerModel(type);
  if (model && !lookupModel(model)) {
    // "Antminer S9 Zeus": the model table knows "Antminer S9", so "Zeus" is a firmware's word, not the model's.
    const words = model.split(/\s+/);
    for (let n = words.length - 1; n >= 2; n--) {
      if (lookupModel(words.slice(0, n).join(' '))) return words.slice(n).join(' ');
    }
  }
  return null;
}

export function recognize(d: ReplyDigest): Identification | null {
  const type = d.type;
  const mk = d.minerKey;
  const evidence: string[] = [];
  if (type && /hiveon/i.test(type)) {
    evidence.push(`Type "${type}"`);
    if (mk) evidence.push(`${mk.key} "${mk.value}"`);
    return identified('antminer', 'high', evidence, {
      make: 'Bitmain',
      model: cleanAntminerModel(type),
      firmware: `Hiveon${mk ? ` (${mk.key} ${mk.value})` : ''}`,
    });
  }
  if (mk && /rwglr/i.test(mk.value) && (!type || /^antminer/i.test(type))) {
    // pyasic maps RWGLR without Hiveon to MSKminer (antminer_s9promskminer_version.txt).
    evidence.push(`${mk.key} "${mk.value}" (rwglr build without Hiveon in Type: MSKminer)`);
    return identified('antminer', 'medium', evidence, {
      make: 'Bitmain',
      model: cleanAntminerModel(type),
      firmware: `MSKminer (${mk.key} ${mk.value})`,
    });
  }
  const antType = type !== null && /^antminer/i.test(type);
  const realm = /realm="antMiner/i.test(d.httpRealm);
  if (!antType && mk?.key !== 'BMMiner' && !realm) return null;
  if (type) evidence.push(`Type "${type}"`);
  if (mk) evidence.push(`${mk.key} "${mk.value}"`);
  if (realm) evidence.push('web root challenges with the antMiner digest realm');
  let firmware: string | null = null;
  if (mk) {
    const minerVer = d.ver ? (typeof d.ver['Miner'] === 'string' ? d.ver['Miner'] : null) : null;
    const flavour = /asicseer/i.test(mk.value) ? 'asicseer ' : '';
    firmware = `${flavour}${mk.key.toLowerCase()} ${mk.value}${minerVer ? ` (Miner ${minerVer})` : ''}`;
  }
  let unknown: string | undefined;
  if (antType) {
    const deco = /blissz/i.test(type!) ? null : unknownDecoration(type!);
    if (deco)
      unknown = `firmware "${deco}" in Type "${type}" is not one rigtel knows: read as a stock Antminer, not trusted as one`;
    else if (d.ver && !Object.keys(d.ver).some((k) => KNOWN_KEYS.has(k) && str(d.ver![k]))) {
      const others = Object.keys(d.ver).filter((k) => !STANDARD_KEYS.has(k));
      unknown = `version names no miner software rigtel knows (${others.length ? others.join(', ') : 'no BMMiner/CGMiner key'}): read as a stock Antminer, not trusted as one`;
    }
  }
  return identified('antminer', antType && !unknown ? 'high' : 'medium', evidence, {
    make: 'Bitmain',
    model: cleanAntminerModel(type),
    firmware,
    ...(unknown ? { unknown_firmware: unknown } : {}),
  });
}
