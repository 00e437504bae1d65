// `/api/docs`: the OpenAPI document as a browsable page (Swagger UI from the swagger-ui-dist
// package, served from node_modules, no CDN). Assets are declared routes like any other, so
// the router and /api/openapi.json keep listing the same things. No inline script.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { notFound } from '../../shared/errors.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { errors } from '../schemas/common.js';

const ASSET_TYPES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Attendance sync service — API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"><noscript>The API document is at <a href="/api/openapi.json">/api/openapi.json</a>.</noscript></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>
`;

const CACHE = { 'Cache-Control': 'public, max-age=3600' };
const assetDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const loaded = new Map<string, Promise<Buffer>>();

function asset(name: string): Promise<Buffer> {
  let bytes = loaded.get(name);
  if (!bytes) {
    bytes = fs.readFile(path.join(assetDir, name));
    loaded.set(name, bytes);
  }
  return bytes;
}

export function docsRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/docs', summary: 'The API document as a browsable page (Swagger UI)', tags: ['operations'], auth: 'none',
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler() {
      return reply.raw(PAGE, 'text/html; charset=utf-8', { 'Cache-Control': 'no-cache' });
    },
  });

  api.add({
    method: 'get', path: '/api/docs/:file', summary: 'An asset of the documentation page', tags: ['operations'], auth: 'none',
    params: z.object({ file: z.string().max(100).describe(`init.js, ${Object.keys(ASSET_TYPES).join(', ')}`) }),
    responses: { 200: { description: 'The asset', contentType: 'application/octet-stream' }, ...errors(404) },
    async handler({ params }) {
      if (params.file === 'init.js') return reply.raw(INIT_SCRIPT, 'text/javascript; charset=utf-8', CACHE);
      const type = Object.hasOwn(ASSET_TYPES, params.file) ? ASSET_TYPES[params.file] : undefined;
      if (!type) throw notFound('documentation asset');
      return reply.raw(await asset(params.file), type, CACHE);
    },
  });
}
