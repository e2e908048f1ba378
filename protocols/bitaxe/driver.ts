import type { MinerDriver, PollTarget } from '../driver.js';
import { httpGetJson } from '../http/client.js';
import type { MinerReading } from '../sample.js';
import { parseBitaxe } from './parse.js';

/** AxeOS: one HTTP GET, no auth (protocols.md §4.7). The configured port is the web port (80 by default). */
export const bitaxeDriver: MinerDriver = {
  family: 'bitaxe',
  async poll(target: PollTarget, signal: AbortSignal): Promise<MinerReading> {
    const { value } = await httpGetJson({
      host: target.host,
      // AxeOS has no cgminer API (protocols.md §4.7): 4028, the config's default port, means "not given" → 80.
      port: target.port === 4028 ? 80 : target.port,
      path: '/api/system/info',
      connectTimeoutMs: target.connectTimeoutMs,
      deadlineMs: target.commandTimeoutMs,
      maxBytes: target.maxReplyBytes,
      signal,
    });
    return parseBitaxe(value);
  },
};
