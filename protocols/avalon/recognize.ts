/**
 * Avalon signatures (docs/protocols.md, "## Avalon"): PROD in `version`, an avalon driver or AVA… name in
 * `devdetails`, per-module "MM ID<n>" strings or an AVA… ID in `stats` (avalon_1047_summary-stats-pools.txt).
 */
import { type Identification, identified, normMac, type ReplyDigest, str } from '../kit/index.js';
import { avalonModelFromVer } from './parse.js';

export function recognize(d: ReplyDigest): Identification | null {
  const prod = str(d.ver?.['PROD']);
  const driver = str(d.dd?.['Driver']);
  const avalonStats = d.statsRows.some(
    (o) => /^AVA/i.test(str(o['ID']) ?? '') || Object.keys(o).some((k) => /^MM ID\d/.test(k)),
  );
  const hit =
    prod ||
    /^avalon/i.test(driver ?? '') ||
    /^AVA/i.test(str(d.dd?.['Name']) ?? '') ||
    /avalon/i.test(d.all) ||
    avalonStats;
  if (!hit) {
    if (/\bAvalon/.test(d.httpBody))
      return identified('avalon', 'medium', ['web page says "Avalon"'], { make: 'Canaan' });
    return null;
  }
  const evidence: string[] = [];
  if (avalonStats && !prod) evidence.push('stats has Avalon MM ID / AVA rows');
  if (prod) evidence.push(`version PROD "${prod}"`);
  if (driver && /avalon/i.test(driver)) evidence.push(`devdetails Driver "${driver}"`);
  if (!evidence.length) evidence.push('reply mentions Avalon');
  const build = str(d.ver?.['VERSION']) ?? str(d.ver?.['LVERSION']) ?? str(d.ver?.['CGVERSION']);
  const mk = d.minerKey;
  return identified('avalon', prod ? 'high' : 'medium', evidence, {
    make: 'Canaan',
    model: prod ?? avalonModelFromVer(build),
    firmware: build ? `${build}${mk ? ` (cgminer ${mk.value})` : ''}` : null,
    mac: normMac(d.ver?.['MAC']),
  });
}
