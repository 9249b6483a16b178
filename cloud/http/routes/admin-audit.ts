/**
 * /api/v1/admin/audit: admins read the audit log (who changed what, when), newest first, narrowed
 * by action, actor, target and time, a page at a time.
 */
import { z } from 'zod';
import { badRequest } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { email, id } from '../schemas.js';

const ADMIN = ['admin'] as const;
export const AUDIT_PAGE_MAX = 200;

const instant = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

const auditQuery = z.object({
  action: z.string().regex(/^[a-z][a-z0-9_.]{0,63}$/, 'must be an action name such as user.create').optional(),
  actor: z.union([id, email]).optional(),
  target: z.string().min(1).max(200).optional(),
  from: instant.optional(),
  to: instant.optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
}).refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'to must be after from', path: ['to'] });

const auditEntryOut = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.object({ id: z.string(), email: z.string().nullable(), full_name: z.string().nullable() }).nullable(),
  action: z.string(),
  target: z.string(),
  details: z.record(z.string(), z.unknown()),
});

export function adminAuditRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store } = deps;

  routes.add(
    {
      method: 'get', path: '/api/v1/admin/audit', tag: 'admin', auth: ADMIN, summary: 'Read the audit log',
      description: `Newest first. \`action\`, \`actor\` (an account's id or e-mail; null actors are the system's own), \`target\` (exact) and the time range (\`from\` inclusive, \`to\` exclusive, ISO 8601 with an offset) narrow it. At most \`limit\` (≤ ${AUDIT_PAGE_MAX}) entries; \`next\` is the \`before\` of the next page, or null on the last.`,
      query: auditQuery,
      response: z.object({ items: z.array(auditEntryOut), next: z.number().int().nullable(), actions: z.array(z.string()) }),
      errors: [[400, 'validation_error'], [400, 'unknown_actor']],
    },
    async ({ query }) => {
      let actorId = query.actor;
      if (actorId?.includes('@')) {
        const account = await store.accounts.findByEmail(actorId);
        if (!account) throw badRequest('unknown_actor', 'no account has this e-mail');
        actorId = account.id;
      }
      const { actor: _actor, ...filter } = query;
      const [page, actions] = await Promise.all([store.audit.list({ ...filter, actorId }), store.audit.actions()]);
      return { items: page.items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), next: page.next, actions };
    },
  );
}
