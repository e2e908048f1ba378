/** Bitaxe (AxeOS): one HTTP GET of `/api/system/info`, no auth (docs/protocols.md, "## Bitaxe"). */

import type { RtError } from '../../lib/errors.js';
import { finishReading, httpGetJson, type MinerDriver, ProtoErrors } from '../kit/index.js';
import { parseBitaxe } from './parse.js';

export function createBitaxeDriver(): MinerDriver {
  return {
    family: 'bitaxe',
    async poll(target, signal) {
      const { value } = await httpGetJson({
        host: target.host,
        // AxeOS has no cgminer API: 4028, the config's default port, means "not given" → 80.
        port: target.port === 4028 ? 80 : target.port,
        path: '/api/system/info',
        connectTimeoutMs: target.connectTimeoutMs,
        deadlineMs: target.commandTimeoutMs,
        maxBytes: target.maxReplyBytes,
        signal,
      });
      const failures: { command: string; error: RtError }[] = [];
      if (signal.aborted) throw ProtoErrors.aborted(`${target.host}:${target.port}`);
      return finishReading(parseBitaxe(value), {
        bodies: { '/api/system/info': value },
        repairs: [],
        failures,
      });
    },
  };
}
