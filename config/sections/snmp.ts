import { z } from 'zod';

/** SNMP devices (PDUs, sensors, switches) and their mapping to rigs. Owned by the SNMP work (issue 3). */
export const snmpSection = z
  .object({
    devices: z
      .array(z.object({}).passthrough())
      .default([])
      .describe('SNMP devices to poll (not built yet).'),
  })
  .strict()
  .default({ devices: [] })
  .describe('Metered power from smart PDUs, sensors and switches over SNMP.');
