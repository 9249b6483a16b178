/** Liveness, readiness and Prometheus metrics. Plain Koa routes: no auth, no secrets inside. */
import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';

export type ReadinessCheck = () => Promise<{ name: string; ok: boolean; detail?: string }>;

export function healthRoutes(router: Router, deps: AppDeps, extraChecks: ReadinessCheck[]): void {
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
    for (const check of extraChecks) {
      try {
        checks.push(await check());
      } catch {
        checks.push({ name: 'check', ok: false, detail: 'check failed' });
      }
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
