/**
 * /api/v1/admin: accounts (create, search, read, change the role, deactivate and reactivate), terms and
 * rooms (role admin).
 */
import { z } from 'zod';
import { uuidv7 } from '../../../shared/ids.js';
import { conflict, notFound, unprocessable } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { DuplicateEmailError, LastAdminError, publicUser, type AccountChange } from '../../store/accounts.js';
import { newSecret } from '../../auth/secrets.js';
import { PASSWORD_RESET_TTL_MS, mailPasswordReset } from '../../mail/password-reset.js';
import { TermNameTakenError } from '../../store/courses.js';
import { RoomCodeExhaustedError, RoomNameTakenError } from '../../store/rooms.js';
import { displayText, email, fullName, id, idParams, isoDate, password, role, userOut } from '../schemas.js';

const ADMIN = ['admin'] as const;
const page = { limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0) };

const termIn = z.object({ name: displayText(100), starts_on: isoDate, ends_on: isoDate }).refine((t) => t.starts_on <= t.ends_on, {
  message: 'ends_on must not be before starts_on',
  path: ['ends_on'],
});
const termOut = z.object({ id, name: z.string(), starts_on: z.string(), ends_on: z.string() });
const roomOut = z.object({ id, name: z.string(), room_code: z.number().int(), created_at: z.number().int() });

export function adminAccountRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, events, mailer } = deps;

  /**
   * Applies a role change or (de)activation and audits it. A real change raises the account's
   * token version, so its tokens stop working at once; the account logs in again.
   */
  async function changeAccount(actorId: string, targetId: string, change: AccountChange, action: string) {
    let result;
    try {
      result = await store.accounts.change(targetId, change);
    } catch (e) {
      if (e instanceof LastAdminError) throw conflict('last_admin', 'this is the last active admin account; make another admin first');
      throw e;
    }
    if (!result) throw notFound('user');
    const { before, after } = result;
    if (after !== before) {
      await store.audit.record({ at: clock(), actorId, action, target: targetId, details: 'role' in change ? { from: before.role, to: after.role } : {} });
      events.emit('account.tokens_revoked', { user_id: targetId });
    }
    return publicUser(after);
  }

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/users', tag: 'admin', auth: ADMIN, status: 201, summary: 'Create an account with any role',
      description: `Without \`password\`, the account gets a random one nobody knows and is mailed a one-time link (valid ${PASSWORD_RESET_TTL_MS / 3_600_000} h) to choose its own; that needs mail (ATTENDANCE_SMTP_URL), else 409 mail_unavailable.`,
      body: z.object({ email, full_name: fullName, password: password.optional(), role }),
      response: userOut.extend({ password_link_sent: z.boolean() }),
      errors: [[409, 'email_taken'], [409, 'mail_unavailable']],
    },
    async ({ body, user }) => {
      if (body.password === undefined && !mailer) throw conflict('mail_unavailable', 'this cloud sends no mail, so give the account a password');
      try {
        const now = clock();
        const created = await store.accounts.create({ ...body, password: body.password ?? newSecret() }, now);
        await store.audit.record({ at: now, actorId: user.id, action: 'user.create', target: created.id, details: { role: created.role } });
        const linkSent = body.password === undefined && mailer !== undefined && (await mailPasswordReset(store, mailer, created, now));
        return { ...created, password_link_sent: linkSent };
      } catch (e) {
        if (e instanceof DuplicateEmailError) throw conflict('email_taken', 'an account with this e-mail exists');
        throw e;
      }
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/admin/users', tag: 'admin', auth: ADMIN, summary: 'List accounts',
      description: 'In e-mail order; `q` keeps the accounts whose name or e-mail contains it (any case), `role` those of one role. `total` is how many match in all, for paging with `limit` and `offset`; `timezone` is the institution\'s.',
      query: z.object({ role: role.optional(), q: z.string().trim().max(200).optional().transform((v) => v || undefined), ...page }),
      response: z.object({ items: z.array(userOut), total: z.number().int(), timezone: z.string() }),
    },
    async ({ query }) => ({ ...(await store.accounts.search(query)), timezone: deps.settings.timezone }),
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/users/:id', tag: 'admin', auth: ADMIN, summary: 'Read an account', params: idParams, response: userOut, errors: [[404, 'not_found']] },
    async ({ params }) => {
      const u = await store.accounts.get(params.id);
      if (!u) throw notFound('user');
      return publicUser(u);
    },
  );

  routes.add(
    {
      method: 'put', path: '/api/v1/admin/users/:id/role', tag: 'admin', auth: ADMIN, summary: "Change an account's role",
      description: 'The account\'s tokens stop working at once; it logs in again to act with its new role. The last active admin cannot be demoted.',
      params: idParams, body: z.object({ role }), response: userOut, errors: [[404, 'not_found'], [409, 'last_admin']],
    },
    ({ params, body, user }) => changeAccount(user.id, params.id, { role: body.role }, 'user.role_change'),
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/users/:id/deactivate', tag: 'admin', auth: ADMIN, summary: 'Deactivate an account',
      description: 'The account can no longer log in (answered like a wrong password) and its tokens stop working at once. Its records stay. The last active admin cannot be deactivated.',
      params: idParams, response: userOut, errors: [[404, 'not_found'], [409, 'last_admin']],
    },
    ({ params, user }) => changeAccount(user.id, params.id, { deactivatedAt: clock() }, 'user.deactivate'),
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/users/:id/reactivate', tag: 'admin', auth: ADMIN, summary: 'Reactivate an account',
      description: 'The account can log in again with its password; tokens from before its deactivation stay dead.',
      params: idParams, response: userOut, errors: [[404, 'not_found']],
    },
    ({ params, user }) => changeAccount(user.id, params.id, { deactivatedAt: null }, 'user.reactivate'),
  );

  routes.add(
    { method: 'post', path: '/api/v1/admin/terms', tag: 'admin', auth: ADMIN, status: 201, summary: 'Create a term (semester)', body: termIn, response: termOut, errors: [[409, 'term_exists']] },
    async ({ body }) => {
      const row = { id: uuidv7(clock()), ...body };
      try {
        await store.courses.createTerm(row);
      } catch (e) {
        if (e instanceof TermNameTakenError) throw conflict('term_exists', 'a term with this name exists');
        throw e;
      }
      return row;
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/terms', tag: 'admin', auth: ADMIN, summary: 'List terms', response: z.object({ items: z.array(termOut) }) },
    async () => ({ items: await store.courses.listTerms() }),
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/rooms', tag: 'admin', auth: ADMIN, status: 201, summary: 'Create a room',
      description: 'Generates the room code and the 32-byte room secret. The secret is stored for token validation and is never returned by this route.',
      body: z.object({ name: displayText(100) }), response: roomOut, errors: [[409, 'room_exists']],
    },
    async ({ body, user }) => {
      try {
        const room = await store.rooms.create(body.name, clock());
        await store.audit.record({ at: clock(), actorId: user.id, action: 'room.create', target: room.id });
        return room;
      } catch (e) {
        if (e instanceof RoomNameTakenError) throw conflict('room_exists', 'a room with this name exists');
        if (e instanceof RoomCodeExhaustedError) throw unprocessable('room_code_exhausted', 'could not allocate a unique room code');
        throw e;
      }
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/rooms', tag: 'admin', auth: ADMIN, summary: 'List rooms', response: z.object({ items: z.array(roomOut) }) },
    async () => ({ items: await store.rooms.list() }),
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/rooms/:id', tag: 'admin', auth: ADMIN, summary: 'Read a room', params: idParams, response: roomOut, errors: [[404, 'not_found']] },
    async ({ params }) => {
      const room = await store.rooms.view(params.id);
      if (!room) throw notFound('room');
      return room;
    },
  );
}
