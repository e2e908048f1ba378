import { z } from 'zod';

/** Alert rules. Owned by the alerts work (issue 4). */
export const alertsSection = z.object({}).strict().default({}).describe('Alert rules over live fleet state.');
