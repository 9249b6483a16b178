/**
 * Liveness, readiness and Prometheus metrics. Plain Koa routes: no auth, no secrets inside.
 * Ready means the database answers a read and commits a write (docs/operations.md, "Readiness").
 */
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
    // A full disk or a read-only database still answers reads: only a committed write tells.
    if (checks[0]!.ok) {
      try {
        await deps.store.probeWrite(deps.clock());
        checks.push({ name: 'database_writes', ok: true });
      } catch (err) {
        deps.logger.warn({ err }, 'readiness: database write failed');
        checks.push({ name: 'database_writes', ok: false, detail: 'database refuses writes (disk full or read-only?)' });
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
