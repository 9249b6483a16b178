/**
 * /api/v1/openapi.json (generated from the route table, see openapi.ts) and the interactive
 * reference at /api/v1/docs: Swagger UI served from node_modules/swagger-ui-dist, no CDN.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { buildOpenApiDocument } from '../openapi.js';
import { StaticFiles, packageDir, projectRoot } from '../../dashboard/static-files.js';

/**
 * Swagger UI sets style attributes from script, hence 'unsafe-inline' for styles only; scripts
 * come from this origin alone and nothing may frame the page.
 */
export const DOCS_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const API_DESCRIPTION = [
  'Classroom attendance: BLE tokens from a gateway in each room, submitted by the student app, decided per session.',
  'Log in with `POST /api/v1/auth/token`, then press **Authorize** and paste the `access_token`.',
  'Errors are always `{error: {code, message, details?}}`; each operation lists its codes per status.',
  'Times are ISO-8601 UTC; analytics days are local dates in the institution time zone. See docs/api.md and docs/analytics.md.',
].join('\n\n');

export function docsRoutes(routes: RouteTable, _deps: AppDeps, router: Router): void {
  const root = projectRoot();
  const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const swagger = packageDir('swagger-ui-dist');
  const ours = path.join(root, 'cloud', 'dashboard', 'static');
  const assets = new StaticFiles({
    'swagger-ui.css': path.join(swagger, 'swagger-ui.css'),
    'swagger-ui-bundle.js': path.join(swagger, 'swagger-ui-bundle.js'),
    'favicon-32x32.png': path.join(swagger, 'favicon-32x32.png'),
    'api-docs.js': path.join(ours, 'api-docs.js'),
  }, 3600);
  const page = new StaticFiles({ 'index.html': path.join(ours, 'api-docs.html') }, 0);

  // Built on first use: feature modules mounted after this one add their specs later.
  let document: string | null = null;
  router.get('/api/v1/openapi.json', (ctx) => {
    document ??= JSON.stringify(buildOpenApiDocument(routes.specs, { title: 'Classroom attendance API', version, description: API_DESCRIPTION }));
    ctx.type = 'application/json; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = document;
  });

  router.get('/api/v1/docs', (ctx) => {
    ctx.set('Content-Security-Policy', DOCS_CSP);
    ctx.set('Referrer-Policy', 'no-referrer');
    page.serve(ctx, 'index.html');
  });

  router.get('/api/v1/docs/:file', (ctx) => {
    const file = ctx.params.file ?? '';
    if (!assets.has(file)) return; // falls through to the JSON 404
    assets.serve(ctx, file);
  });
}
