/**
 * The image's HEALTHCHECK: GET /healthz on the address the collector listens on, read from the same config and
 * RIGTEL_* environment as `rigtel run` (so a changed `api.listen` moves the check with it). Exit 0 healthy, 1 not.
 * Usage: node --import tsx docker/healthcheck.ts [config file]
 */
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { splitAddress } from '../config/schema.js';

const file = process.argv[2] ?? '/etc/rigtel/rigtel.yaml';
const config = loadConfig(existsSync(file) ? file : undefined, process.env);
const { host, port } = splitAddress(config.api.listen, 8080);
// A wildcard listen address is reached over loopback.
const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
const url = `http://${target.includes(':') ? `[${target}]` : target}:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
