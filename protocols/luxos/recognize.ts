/** LuxOS signatures (docs/protocols.md, "## LuxOS"): a LUXminer key in `version`, a LUXminer Description, the web page. */
import { type Identification, identified, type ReplyDigest, str } from '../kit/index.js';

export function recognize(d: ReplyDigest): Identification | null {
  const lux = str(d.ver?.['LUXminer']);
  const descLux = d.desc !== null && /LUXminer/i.test(d.desc);
  if (lux || descLux) {
    return identified(
      'luxos',
      lux ? 'high' : 'medium',
      [lux ? 'version has a LUXminer key' : `Description "${d.desc}"`],
      {
        make: 'Bitmain',
        model: d.typeModel,
        firmware: `LUXminer ${lux ?? d.desc!.replace(/^LUXminer\s*/i, '')}`,
      },
    );
  }
  if (/Luxor Firmware/i.test(d.httpBody))
    return identified('luxos', 'medium', ['web page says "Luxor Firmware"'], { make: 'Bitmain' });
  return null;
}
