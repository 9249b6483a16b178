/**
 * The web pages: the teacher dashboard at /dashboard and the console at /console (HTML, CSS and
 * ES modules from cloud/dashboard/static, nothing from other origins) that talk to the JSON API
 * with the account's bearer token, plus the live-session event stream they listen to. Beside
 * them, under the same headers, the page the verification mail links to: /verify-email.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RouteTable } from '../http/route.js';
import type { AppDeps } from '../http/deps.js';
import { StaticFiles, projectRoot } from './static-files.js';
import { liveStreamRoutes } from './live-stream.js';

/** Everything from this origin only; no inline script or style, no framing, no plugins. */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const PAGES = { '/dashboard': 'dashboard.html', '/verify-email': 'verify-email.html', '/console': 'console/console.html' };
const ASSETS = ['dashboard.css', 'dashboard.js', 'dashboard-api.js', 'dashboard-live.js', 'trend-chart.js', 'verify-email.js'];

/** Every file under `dir` by its path relative to it ('pages/admin-accounts.js'), listed once at start. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file).split(path.sep).join('/')] = file;
  }
  return out;
}

function securityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', DASHBOARD_CSP);
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
}

export function dashboardRoutes(routes: RouteTable, deps: AppDeps, router: Router): void {
  liveStreamRoutes(routes, deps);
  const dir = path.join(projectRoot(), 'cloud', 'dashboard', 'static');
  const pages = new StaticFiles(Object.fromEntries(Object.entries(PAGES).map(([route, f]) => [route, path.join(dir, f)])), 0);
  // no-cache + ETag: a deploy is picked up at once, an unchanged file costs a 304.
  const assets = new StaticFiles(Object.fromEntries(ASSETS.map((f) => [f, path.join(dir, f)])), 0);

  // The console's modules: the files present at start, by exact path, so a request's path is
  // only ever a key into this list.
  const consoleFiles = new StaticFiles(filesUnder(path.join(dir, 'console')), 0);

  for (const route of Object.keys(PAGES)) {
    router.get(route, (ctx) => {
      securityHeaders(ctx);
      pages.serve(ctx, route);
    });
  }
  router.get('/dashboard/:file', (ctx) => {
    const file = ctx.params.file ?? '';
    if (!assets.has(file)) return;
    securityHeaders(ctx);
    assets.serve(ctx, file);
  });
  router.get(/^\/console\/(.+)$/, (ctx) => {
    const file = ctx.path.slice('/console/'.length);
    if (!consoleFiles.has(file) || file === 'console.html') return;
    securityHeaders(ctx);
    consoleFiles.serve(ctx, file);
  });
}
