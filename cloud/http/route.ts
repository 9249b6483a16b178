/**
 * Declarative routes: one spec per route carries its auth rule and the zod schemas that validate
 * its input. The same specs generate the OpenAPI document, so docs cannot drift from validation.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { assertRole, authenticate } from './middleware/auth.js';
import type { Principal, TokenService } from '../auth/jwt.js';
import type { Role } from '../store/schema.js';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: Method;
  /** Koa path syntax (`/sessions/:id`); OpenAPI gets `{id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles allowed, or 'public'. */
  auth: readonly Role[] | 'public';
  body?: B;
  /** Extra request media types accepted besides JSON (e.g. 'text/csv'). */
  bodyMediaTypes?: string[];
  query?: Q;
  params?: P;
  response?: z.ZodType;
  /** Media types the success answer can take instead of JSON (e.g. 'text/csv', 'text/event-stream'). */
  responseMediaTypes?: string[];
  /** Status of a successful answer (default 200). */
  status?: number;
  /** Error codes this route can answer with, documented in OpenAPI. */
  errors?: Array<[number, string]>;
}

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** Present on every route whose auth is not 'public'. */
  user: Principal;
  ctx: Context;
}

type Handler<B, Q, P> = (input: RouteInput<B, Q, P>) => Promise<unknown> | unknown;

export function validationError(error: z.ZodError, where: string): HttpError {
  return new HttpError(400, 'validation_error', `invalid ${where}`, error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
}

function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.infer<T> {
  if (!schema) return undefined as z.infer<T>;
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, where);
  return r.data;
}

export class RouteTable {
  readonly specs: RouteSpec[] = [];

  constructor(
    private readonly router: Router,
    private readonly tokens: TokenService,
  ) {}

  add<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(
    spec: RouteSpec<B, Q, P>,
    handler: Handler<z.infer<B>, z.infer<Q>, z.infer<P>>,
  ): void {
    this.specs.push(spec as unknown as RouteSpec);
    const tokens = this.tokens;
    this.router[spec.method](spec.path, async (ctx: Context) => {
      const user = spec.auth === 'public' ? (undefined as unknown as Principal) : await authenticate(ctx, tokens);
      if (spec.auth !== 'public') assertRole(user, spec.auth);
      const params = parse(spec.params, ctx.params, 'path parameters');
      const query = parse(spec.query, ctx.query, 'query parameters');
      let body: z.infer<B> = undefined as z.infer<B>;
      if (spec.body) {
        const accepted = ['application/json', ...(spec.bodyMediaTypes ?? [])];
        if (!ctx.request.is(accepted)) throw new HttpError(415, 'unsupported_media_type', `send ${accepted.join(' or ')}`);
        body = parse(spec.body, (ctx.request as unknown as { body?: unknown }).body, 'request body');
      }
      const result = await handler({ body, query, params, user, ctx });
      if (ctx.body === undefined || ctx.body === null) {
        ctx.status = spec.status ?? 200;
        ctx.body = result;
      }
    });
  }
}
