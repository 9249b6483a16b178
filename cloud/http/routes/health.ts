/** Liveness, readiness and Prometheus metrics. Plain Koa routes: no auth, no secrets inside. */
import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';
import type { RouteTable } from '../route.js';

export function healthRoutes(_routes: RouteTable, deps: AppDeps, router: Router): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const checks: Array<{ name: string; ok: boolean; detail?: string }> = [];
    try {
      await deps.store.ping();
      checks.push({ name: 'database', ok: true });
    } catch (err) {
      deps.logger.warn({ err }, 'readiness: database ping failed');
      checks.push({ name: 'database', ok: false, detail: 'database unreachable' });
    }
    const ok = checks.every((c) => c.ok);
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ready' : 'not_ready', checks };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
}
