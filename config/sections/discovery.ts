import { z } from 'zod';

/** IPv4 address or CIDR block; checked fully (octets, host bits) by collector/discovery.ts at scan time. */
const CIDR = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/;

/** Network discovery: scheduled rescans of IP ranges. Off until ranges are given. */
export const discoverySection = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('Rescan the ranges on a schedule and report rigs that are not in the config.'),
    adopt: z
      .boolean()
      .default(true)
      .describe(
        'Poll identified rigs that a rescan finds and the config does not list, until the next restart (keep them for good with rigtel scan --write-config).',
      ),
    ranges: z
      .array(z.string().regex(CIDR, 'expected an IPv4 address or CIDR block, e.g. 10.0.0.0/22'))
      .default([])
      .describe('IPv4 ranges to scan (CIDR), e.g. ["10.0.0.0/22"]. More than a /16 in total is refused.'),
    ports: z
      .array(z.number().int().min(1).max(65_535))
      .min(1)
      .default([4028, 80, 4433])
      .describe(
        'TCP ports probed on every address: 4028 cgminer API, 80 web (Bitaxe, Antminer), 4433 Whatsminer v3.',
      ),
    interval_ms: z
      .number()
      .int()
      .min(60_000)
      .default(6 * 3_600_000)
      .describe('Time between two scheduled rescans.'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(256)
      .describe(
        'Connect probes in flight at once. Probes that time out are retried at lower concurrency, so a high value cannot hide a rig.',
      ),
    connect_timeout_ms: z
      .number()
      .int()
      .min(50)
      .default(1000)
      .describe('Connect timeout of one probe (doubled on each retry round).'),
    identify_timeout_ms: z
      .number()
      .int()
      .min(100)
      .default(3000)
      .describe('Deadline of one identification command (version, devdetails, HTTP).'),
  })
  .strict()
  .default({
    enabled: false,
    adopt: true,
    ranges: [],
    ports: [4028, 80, 4433],
    interval_ms: 6 * 3_600_000,
    concurrency: 256,
    connect_timeout_ms: 1000,
    identify_timeout_ms: 3000,
  })
  .describe('Scanning IP ranges for miners.');
