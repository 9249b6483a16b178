/**
 * Builds the Koa application from its dependencies. No port here: `cloud/main.ts` listens, tests
 * call `app.callback()` directly.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { AppDeps } from './deps.js';
import { bodyParserError, errorMiddleware } from './errors.js';
import { RouteTable } from './route.js';
import { routeModules } from './modules.js';
import { clientAddressResolver, trustsAnyProxy } from './client-address.js';

export interface App {
  koa: Koa;
  routes: RouteTable;
  /** Releases what the route modules hold (their event listeners); the server is closed by its owner. */
  close(): void;
}

export function createApp(deps: AppDeps): App {
  const koa = new Koa({ proxy: trustsAnyProxy(deps.settings.trustProxy) });
  const router = new Router();
  const routes = new RouteTable(router, deps.tokens);

  // ctx.ip is the client as far as ATTENDANCE_TRUST_PROXY trusts X-Forwarded-For, never its leftmost entry.
  const clientAddress = clientAddressResolver(deps.settings.trustProxy);
  koa.use((ctx, next) => {
    ctx.request.ip = clientAddress(ctx.req.socket.remoteAddress ?? '', ctx.get('X-Forwarded-For'));
    return next();
  });
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
        throw bodyParserError(err);
      },
    }),
  );

  const releases: Array<() => void> = [];
  for (const mod of routeModules) {
    const release = mod(routes, deps, router);
    if (release) releases.push(release);
  }

  koa.use(router.routes());
  koa.use(router.allowedMethods());
  return {
    koa,
    routes,
    close: () => {
      for (const release of releases.splice(0)) release();
    },
  };
}
