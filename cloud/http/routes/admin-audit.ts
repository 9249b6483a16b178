/**
 * /api/v1/admin/audit: admins read the audit log (who changed what, when), newest first, narrowed
 * by action, actor, target and time, a page at a time.
 */
import { z } from 'zod';
import { badRequest } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { email, id, isoDate } from '../schemas.js';
import { FIRST_DATE, LAST_DATE, isLocalDate, localDateRange, startOfLocalDay } from '../../domain/analytics-calendar.js';

const ADMIN = ['admin'] as const;
export const AUDIT_PAGE_MAX = 200;

/** An instant (ISO 8601 with an offset), or a date (YYYY-MM-DD) in the institution's time zone. */
const instantOrDate = z.union([z.iso.datetime({ offset: true }), isoDate.refine(isLocalDate, `is not a date from ${FIRST_DATE} to ${LAST_DATE}`)]);
const isDate = (s: string) => s.length === 10;

const auditQuery = z.object({
  action: z.string().regex(/^[a-z][a-z0-9_.]{0,63}$/, 'must be an action name such as user.create').optional(),
  actor: z.union([id, email]).optional(),
  target: z.string().min(1).max(200).optional(),
  from: instantOrDate.optional(),
  to: instantOrDate.optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
});

const auditEntryOut = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.object({ id: z.string(), email: z.string().nullable(), full_name: z.string().nullable() }).nullable(),
  action: z.string(),
  target: z.string(),
  details: z.record(z.string(), z.unknown()),
});

export function adminAuditRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, settings } = deps;
  const tz = settings.timezone;
  /** The range in ms: a date `from` starts at its first instant, a date `to` includes its whole day. */
  function range(from: string | undefined, to: string | undefined): { from?: number; to?: number } {
    const r = {
      from: from === undefined ? undefined : isDate(from) ? startOfLocalDay(from, tz) : Date.parse(from),
      to: to === undefined ? undefined : isDate(to) ? localDateRange(to, to, tz).endMs : Date.parse(to),
    };
    if (r.from !== undefined && r.to !== undefined && r.from >= r.to) {
      throw badRequest('validation_error', 'invalid query parameters', [{ path: 'to', message: 'must be after from' }]);
    }
    return r;
  }

  routes.add(
    {
      method: 'get', path: '/api/v1/admin/audit', tag: 'admin', auth: ADMIN, summary: 'Read the audit log',
      description: `Newest first. \`action\`, \`actor\` (an account's id or e-mail; null actors are the system's own), \`target\` (exact) and the time range (\`from\` inclusive and \`to\` exclusive as ISO 8601 instants with an offset, or as dates YYYY-MM-DD in the institution's time zone, \`to\` then including its day) narrow it. At most \`limit\` (≤ ${AUDIT_PAGE_MAX}) entries; \`next\` is the \`before\` of the next page, or null on the last.`,
      query: auditQuery,
      response: z.object({ items: z.array(auditEntryOut), next: z.number().int().nullable(), actions: z.array(z.string()), timezone: z.string() }),
      errors: [[400, 'validation_error'], [400, 'unknown_actor']],
    },
    async ({ query }) => {
      let actorId = query.actor;
      if (actorId?.includes('@')) {
        const account = await store.accounts.findByEmail(actorId);
        if (!account) throw badRequest('unknown_actor', 'no account has this e-mail');
        actorId = account.id;
      }
      const { actor: _actor, from, to, ...filter } = query;
      const [page, actions] = await Promise.all([store.audit.list({ ...filter, ...range(from, to), actorId }), store.audit.actions()]);
      return { items: page.items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), next: page.next, actions, timezone: tz };
    },
  );
}
