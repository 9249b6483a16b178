/**
 * The teacher dashboard: a static page at /dashboard (HTML, CSS and ES modules from
 * cloud/dashboard/static, nothing from other origins) that talks to the JSON API with the
 * teacher's bearer token, plus the live-session event stream it listens to. Beside it, under the
 * same headers, the page the verification mail links to: /verify-email.
 */
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

const PAGES = { '/dashboard': 'dashboard.html', '/verify-email': 'verify-email.html' };
const ASSETS = ['dashboard.css', 'dashboard.js', 'dashboard-api.js', 'dashboard-live.js', 'trend-chart.js', 'verify-email.js'];

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
}
