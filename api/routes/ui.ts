import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

/** The floor page and its two assets, read once at start (they are small and never change while running). */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** `GET /`: the site engineer's live view over /v1/fleet and /v1/rigs (web/). */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  for (const [url, asset] of Object.entries(ASSETS)) {
    const body = readFileSync(resolve(webDir, asset.file));
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      reply
        .type(asset.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', "default-src 'self'; connect-src 'self'")
        .send(body);
    });
  }
};
