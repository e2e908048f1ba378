import { z } from 'zod';

/** Sinks besides the embedded store. Owned by the sinks work (issue 4). */
export const sinksSection = z
  .object({})
  .strict()
  .default({})
  .describe('Where samples go besides the embedded store: InfluxDB, MQTT.');
