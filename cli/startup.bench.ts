/**
 * Start-up time of the `rigtel` command: wall time of `--version` and `--help` from the compiled dist/ (what
 * `npm ci` builds) against the tsx fallback, beside a bare `node -e 0` on the same machine at the same moment.
 * A figure, not a test: the machine's load moves it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../testing/stats.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'rigtel.js');

function wallMs(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export function runStartupBench(runs = 7): Record<string, number | string> {
  const m = (args: string[], env?: NodeJS.ProcessEnv) =>
    median(Array.from({ length: runs }, () => wallMs(args, env)));
  return {
    dist_built: existsSync(join(root, 'dist', '.stamp')) ? 'yes' : 'no (run npm run build)',
    node_bare_ms: m(['-e', '0']),
    version_dist_ms: m([bin, '--version']),
    help_dist_ms: m([bin, '--help']),
    help_tsx_ms: m([bin, '--help'], { RIGTEL_NO_DIST: '1' }),
  };
}
