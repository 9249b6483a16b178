/**
 * Builds the Koa application from its dependencies. No port here: `cloud/main.ts` listens, tests
 * call `app.callback()` directly.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { AppDeps } from './deps.js';
import { errorMiddleware } from './errors.js';
import { RouteTable } from './route.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { authRoutes } from './routes/auth.js';
import { adminAccountRoutes } from './routes/admin-accounts.js';
import { adminCourseRoutes } from './routes/admin-courses.js';
import { teacherSessionRoutes } from './routes/teacher-sessions.js';
import { studentRoutes } from './routes/student.js';
import { featureModules } from './modules.js';

/** A feature module adds its routes (API routes through the table, others on the router). */
export type RouteModule = (routes: RouteTable, deps: AppDeps, router: Router) => void;

export interface AppOptions {
  /** Extra route modules on top of the core routes and `featureModules`. */
  modules?: RouteModule[];
  readinessChecks?: ReadinessCheck[];
}

export interface App {
  koa: Koa;
  routes: RouteTable;
}

export function createApp(deps: AppDeps, opts: AppOptions = {}): App {
  const koa = new Koa({ proxy: deps.settings.trustProxy });
  const router = new Router();
  const routes = new RouteTable(router, deps.tokens);

  koa.use(errorMiddleware(deps.logger));
  koa.use(async (ctx, next) => {
    const start = process.hrtime.bigint();
    ctx.set('X-Content-Type-Options', 'nosniff');
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      deps.metrics.httpDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, Number(process.hrtime.bigint() - start) / 1e9);
    }
  });
  koa.use(
    bodyParser({
      enableTypes: ['json', 'form', 'text'],
      extendTypes: { text: ['text/csv'] },
      jsonLimit: '256kb',
      formLimit: '16kb',
      textLimit: '1mb',
      jsonStrict: true,
      onError: (err) => {
        throw err;
      },
    }),
  );

  healthRoutes(router, deps, opts.readinessChecks ?? []);
  authRoutes(routes, deps);
  adminAccountRoutes(routes, deps);
  adminCourseRoutes(routes, deps);
  teacherSessionRoutes(routes, deps);
  studentRoutes(routes, deps);
  for (const mod of [...featureModules, ...(opts.modules ?? [])]) mod(routes, deps, router);

  koa.use(router.routes());
  koa.use(router.allowedMethods());
  return { koa, routes };
}
