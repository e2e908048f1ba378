/**
 * Rigs a scheduled rescan finds that the config does not list: turned into poll targets so the collector picks
 * them up without a restart. Only identified rigs on their API port are adopted; hosts that answered but could
 * not be identified stay in the scan report (and the log) for a person to look at.
 */
import type { Config } from '../config/schema.js';
import { addressKey } from './address.js';
import type { ScanReport } from './discovery.js';
import type { RigTarget } from './poll.js';

/** Targets for the identified rigs of `report` whose address is not in `known`. */
export function targetsFromScan(report: ScanReport, known: ReadonlySet<string>, config: Config): RigTarget[] {
  const out: RigTarget[] = [];
  for (const r of report.results) {
    if (r.status !== 'identified' || r.family === 'unknown') continue;
    const address = addressKey({ host: r.ip, port: r.port });
    if (known.has(address)) continue;
    out.push({
      name: null,
      address,
      target: {
        host: r.ip,
        port: r.port,
        family: r.family,
        connectTimeoutMs: config.poll.connect_timeout_ms,
        commandTimeoutMs: config.poll.command_timeout_ms,
        maxReplyBytes: config.poll.max_reply_bytes,
      },
    });
  }
  return out;
}
