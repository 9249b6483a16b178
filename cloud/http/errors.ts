/**
 * The one error shape of the API: `{error: {code, message, details?}}` with the right 4xx.
 * A database that cannot be reached is not a bug either: 503 `database_unavailable` with
 * Retry-After. Anything else that is not an HttpError is a bug: logged with its stack, answered as
 * a bare 500.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from '../store/errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new HttpError(400, code, message, details);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const forbidden = (message = 'you are not allowed to do this') => new HttpError(403, 'forbidden', message);
export const conflict = (code: string, message: string, details?: unknown) => new HttpError(409, code, message, details);
export const unprocessable = (code: string, message: string, details?: unknown) => new HttpError(422, code, message, details);
/** A limiter's refusal (login, registration): 429 with the seconds to wait in Retry-After. */
export const tooManyAttempts = (message: string, retryAfterS: number) => new HttpError(429, 'too_many_attempts', message, undefined, { 'Retry-After': String(retryAfterS) });

/** Seconds a client should wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_S = 5;

/** Errors thrown by the body parser (co-body / raw-body) carry a status and a type. */
function fromStatusError(err: { status?: number; type?: string; message?: string }): HttpError | null {
  if (typeof err.status !== 'number' || err.status < 400 || err.status >= 500) return null;
  if (err.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'request body is too large');
  if (err.type === 'entity.parse.failed' || err.message?.includes('JSON')) return new HttpError(400, 'malformed_json', 'request body is not valid JSON');
  if (err.status === 415) return new HttpError(415, 'unsupported_media_type', 'unsupported content type');
  return new HttpError(err.status, 'bad_request', err.message ?? 'bad request');
}

/**
 * Whatever the body parser throws is the client's body at fault, never a bug: a status error from
 * co-body / raw-body keeps its status; anything else (zlib failing on a truncated or invalid
 * `Content-Encoding: gzip | deflate | br` body) is a 400.
 */
export function bodyParserError(err: unknown): HttpError {
  return fromStatusError(err as never) ?? new HttpError(400, 'malformed_body', 'request body could not be decoded (check Content-Encoding)');
}

export function errorMiddleware(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        throw new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`, undefined, { Allow: String(ctx.response.get('Allow')) });
      }
    } catch (err) {
      const http = err instanceof HttpError ? err : fromStatusError(err as never);
      if (http) {
        ctx.status = http.status;
        for (const [k, v] of Object.entries(http.headers)) ctx.set(k, v);
        ctx.body = { error: { code: http.code, message: http.message, ...(http.details === undefined ? {} : { details: http.details }) } };
        return;
      }
      if (err instanceof DatabaseUnavailableError) {
        // The driver's code and message only: its error may carry the connection's parameters.
        const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
        logger.warn({ method: ctx.method, path: ctx.path, cause: { code: cause?.code, message: cause?.message } }, 'database unavailable');
        ctx.status = 503;
        ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_S));
        ctx.body = { error: { code: 'database_unavailable', message: 'the database is unavailable; retry shortly' } };
        return;
      }
      logger.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal_error', message: 'internal server error' } };
    }
  };
}
