import { z } from 'zod';

/** Network discovery. Owned by the discovery work (issue 5). */
export const discoverySection = z.object({}).strict().default({}).describe('Scanning IP ranges for miners.');
