import type { FastifyPluginAsync } from 'fastify';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
}

/**
 * `GET /docs/openapi.json`: the OpenAPI 3.1 document built from the route schemas (@fastify/swagger).
 * `GET /docs`: a small page listing every endpoint with its summary (no CDN, no script).
 */
export const docsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => {
    const doc = app.swagger() as unknown as OpenApiDoc;
    const rows = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(
          ([method, op]) =>
            `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? '')}</td></tr>`,
        ),
      )
      .join('\n');
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'self'")
      .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)} ${escapeHtml(doc.info.version)}</title>
<link rel="stylesheet" href="/ui/style.css"></head>
<body><main><h1>${escapeHtml(doc.info.title)} <span>${escapeHtml(doc.info.version)}</span></h1>
<p>${escapeHtml(doc.info.description ?? '')} The machine-readable document: <a href="/docs/openapi.json">/docs/openapi.json</a>.</p>
<table><caption class="sr">Endpoints</caption><thead><tr><th scope="col">method</th><th scope="col">path</th><th scope="col">what</th></tr></thead>
<tbody>
${rows}
</tbody></table></main></body></html>
`);
  });
};
