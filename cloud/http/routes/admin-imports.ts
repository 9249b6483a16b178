/** /api/v1/admin/imports: rosters from the student information system (OneRoster 1.1/1.2 CSV bundles). */
import type { Context } from 'koa';
import { z } from 'zod';
import { HttpError, badRequest } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { readZipBundle } from '../../roster/oneroster/bundle.js';
import { BUNDLE_ERROR_CODES, BundleError } from '../../roster/oneroster/errors.js';
import { importOneRoster } from '../../roster/oneroster/import.js';

/** A faculty's export, zipped: ten thousand people and their enrolments are a few megabytes. */
export const MAX_BUNDLE_BYTES = 50 * 1024 * 1024;

const counts = z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), deleted: z.number().int() });
const importOut = z.object({
  dry_run: z.boolean(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  deleted: z.number().int(),
  by_kind: z.object({ terms: counts, accounts: counts, courses: counts, enrollments: counts }),
  files: z.array(z.object({ file: z.string(), mode: z.enum(['bulk', 'delta', 'absent']), rows: z.number().int() })),
  rejected: z.array(z.object({ file: z.string(), line: z.number().int(), sourcedId: z.string(), reason: z.string() })),
});

/** The raw request body, refused with 413 past `limit` bytes (read only after the caller is authorised). */
async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > limit) throw new HttpError(413, 'payload_too_large', `the bundle may be at most ${limit} bytes`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'payload_too_large', `the bundle may be at most ${limit} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

export function adminImportRoutes(routes: RouteTable, deps: AppDeps): void {
  routes.add(
    {
      method: 'post', path: '/api/v1/admin/imports/oneroster', tag: 'admin', auth: ['admin'], summary: 'Import a OneRoster CSV bundle',
      description:
        'The body is the zipped bundle (`Content-Type: application/zip`, at most 50 MB): manifest.csv and the files it lists as bulk or delta ' +
        '(academicSessions, orgs, users, roles, courses, classes, enrollments). Terms, accounts, courses and enrolments are matched by sourcedId. ' +
        'A bundle that does not hold together is refused whole (400, nothing written); rows that cannot be imported are listed in `rejected`, the others are written in one transaction. ' +
        '`dry_run=true` answers the same and writes nothing.',
      query: z.object({ dry_run: z.enum(['true', 'false']).optional() }),
      response: importOut,
      errors: [...BUNDLE_ERROR_CODES.map((code): [number, string] => [400, code]), [413, 'payload_too_large'], [415, 'unsupported_media_type']],
    },
    async ({ query, user, ctx }) => {
      if (!ctx.request.is('application/zip')) throw new HttpError(415, 'unsupported_media_type', 'send the bundle as application/zip');
      const zip = await readBody(ctx, MAX_BUNDLE_BYTES);
      try {
        return await importOneRoster(deps.store, readZipBundle(zip), { dryRun: query.dry_run === 'true', actorId: user.id, now: deps.clock(), events: deps.events });
      } catch (e) {
        if (e instanceof BundleError) throw badRequest(e.code, e.message);
        throw e;
      }
    },
  );
}
