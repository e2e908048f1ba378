// `npm test`: make sure the real services exist, then lint, type-check and run every test.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { ensureServices } from '../testing/ensure-services.mjs';

// Node 20's test runner takes no globs, so list the test files ourselves.
function testFiles() {
  return readdirSync('.', { recursive: true })
    .filter((f) => /\.test\.ts$/.test(f) && !f.includes('node_modules'))
    .sort();
}

function run(label, cmd, args) {
  console.log(`\n[test] ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[test] ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

await ensureServices();
run('lint', 'npx', ['biome', 'check', '.']);
run('types', 'npx', ['tsc', '--noEmit', '-p', '.']);
run('imports', process.execPath, ['--import', 'tsx', 'scripts/check-imports.ts']);
const files = process.argv.slice(2);
run('tests', process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=120000',
  ...(files.length ? files : testFiles()),
]);
