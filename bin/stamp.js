// What dist/ was built from: the newest modification time and the count of the TypeScript sources it compiles.
// Shared by scripts/build.mjs (writes dist/.stamp) and bin/rigtel.js (uses dist/ only while the stamp matches).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const DIRS = ['protocols', 'collector', 'api', 'config', 'cli', 'lib'];

export function sourceStamp(root) {
  let newest = 0;
  let count = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== 'testdata' && e.name !== 'fixtures') walk(join(dir, e.name));
      } else if (e.name.endsWith('.ts')) {
        count++;
        const m = statSync(join(dir, e.name)).mtimeMs;
        if (m > newest) newest = m;
      }
    }
  };
  for (const d of DIRS) walk(join(root, d));
  return `${Math.floor(newest)}:${count}`;
}
