/**
 * A person's data (docs/privacy.md, "Export and erasure"): a student downloads everything kept
 * about them, an admin downloads anyone's or erases an account's identity. Every export and every
 * erasure is in the audit log.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { conflict, notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import type { Principal } from '../../auth/jwt.js';
import { LastAdminError } from '../../store/accounts.js';
import type { PersonalData } from '../../store/personal-data.js';
import { iso } from '../views.js';
import { id, idParams, role } from '../schemas.js';

const ADMIN = ['admin'] as const;
const STUDENT = ['student'] as const;
const time = z.string().describe('ISO-8601 UTC');
const status = z.enum(['present', 'late', 'absent', 'excused']);

const exportOut = z.object({
  exported_at: time,
  account: z.object({
    id, email: z.string(), full_name: z.string(), role, sourced_id: z.string().nullable(),
    created_at: time, deactivated_at: time.nullable(), email_verified_at: time.nullable(), erased_at: time.nullable(),
  }),
  enrolments: z.array(z.object({
    course_id: id, course_code: z.string(), course_name: z.string(), enrolled_at: time,
    term: z.object({ id, name: z.string(), starts_on: z.string(), ends_on: z.string() }).nullable(),
  })),
  attendance: z.array(z.object({
    session_id: id, course_id: id, course_code: z.string(), course_name: z.string(), started_at: time, ended_at: time.nullable(),
    status, decided_status: status, presence: z.number(), witnessed_windows: z.number().int(), verified: z.boolean(), reasons: z.array(z.string()),
    override: z.object({ status, reason: z.string(), by: z.string(), at: time }).nullable(),
  })),
  devices: z.array(z.object({
    id, credential_id: z.string(), public_key: z.string().describe('COSE public key, base64url: no secret, no biometric'), aaguid: z.string(),
    device_name: z.string().nullable(), transports: z.array(z.string()), status: z.enum(['active', 'pending', 'revoked']),
    backup_eligible: z.boolean(), backed_up: z.boolean(), decided_by: z.string().nullable(), decided_at: time.nullable(), created_at: time, last_used_at: time.nullable(),
    checkin_key_id: z.string().nullable().describe('key_id (hex) of the check-in key enrolled with this device, null if none'),
  })),
  verifications: z.array(z.object({ id, session_id: id, device_id: id, at: time, user_verified: z.boolean(), backed_up: z.boolean() })),
  submissions: z.array(z.object({ session_id: id, course_id: id, windows: z.number().int(), first_received_at: time, last_received_at: time })),
  witnessed_windows: z.array(z.object({
    session_id: id, w: z.number().int(), key_id: z.string(), gateway_id: z.string(), rssi: z.number().int().nullable(),
    peer: z.string().describe("the phone's BLE address as the gateway saw it"), latency_ms: z.number().int(), at: time,
  })).describe("windows the room's gateway witnessed the phone in (proof of proximity)"),
  checkin_refusals: z.array(z.object({ session_id: z.string(), w: z.number().int(), key_id: z.string(), gateway_id: z.string(), reason: z.string(), at: time }))
    .describe("refused check-ins with one of the account's check-in keys"),
  identity_links: z.array(z.object({ issuer: z.string(), subject: z.string(), created_at: time, last_login_at: time.nullable() })),
  email_verifications: z.array(z.object({ created_at: time, expires_at: time, used_at: time.nullable() })),
  absence_warnings: z.array(z.object({
    course_id: z.string(), kind: z.enum(['percentage', 'consecutive']), value: z.number().describe('the percentage, or the absences in a row, when it was found'),
    crossed_at: time, student_mailed_at: time.nullable(),
  })).describe("the absence warnings found for the account (cleared once it is back above the course's threshold)"),
  audit: z.array(z.object({ id: z.number().int(), at: time, actor_id: z.string().nullable(), action: z.string(), target: z.string(), details: z.unknown() })),
});

const erasureOut = z.object({
  id, role, email: z.string().describe('the pseudonym'), full_name: z.string(), erased_at: time, erased_by: z.string().nullable(),
});

/** The JSON document of an export: times as ISO-8601, flags as booleans. */
function exportView(d: PersonalData, now: number): z.infer<typeof exportOut> {
  const a = d.account;
  return {
    exported_at: iso(now)!,
    account: {
      id: a.id, email: a.email, full_name: a.full_name, role: a.role, sourced_id: a.sourced_id,
      created_at: iso(a.created_at)!, deactivated_at: iso(a.deactivated_at), email_verified_at: iso(a.email_verified_at), erased_at: iso(d.erasure?.erased_at ?? null),
    },
    enrolments: d.enrolments.map((e) => ({ ...e, enrolled_at: iso(e.enrolled_at)! })),
    attendance: d.attendance.map((r) => ({
      session_id: r.session_id, course_id: r.course_id, course_code: r.course_code, course_name: r.course_name, started_at: iso(r.started_at)!, ended_at: iso(r.ended_at),
      status: r.status, decided_status: r.decided_status, presence: r.presence, witnessed_windows: r.witnessed_windows, verified: r.verified, reasons: r.reasons,
      override: r.override ? { ...r.override, at: iso(r.override.at)! } : null,
    })),
    devices: d.devices.map((c) => ({
      id: c.id, credential_id: c.credential_id, public_key: c.public_key, aaguid: c.aaguid, device_name: c.device_name,
      transports: c.transports ? c.transports.split(',') : [], status: c.status, backup_eligible: c.backup_eligible === 1, backed_up: c.backed_up === 1,
      decided_by: c.decided_by, decided_at: iso(c.decided_at), created_at: iso(c.created_at)!, last_used_at: iso(c.last_used_at),
      checkin_key_id: c.checkin_key_id,
    })),
    verifications: d.verifications.map((v) => ({ id: v.id, session_id: v.session_id, device_id: v.credential_id, at: iso(v.at)!, user_verified: v.uv === 1, backed_up: v.backed_up === 1 })),
    submissions: d.submissions.map((s) => ({ ...s, first_received_at: iso(s.first_received_at)!, last_received_at: iso(s.last_received_at)! })),
    witnessed_windows: d.witnessed_windows.map((x) => ({ ...x, at: iso(x.at)! })),
    checkin_refusals: d.checkin_refusals.map((r) => ({ ...r, at: iso(r.at)! })),
    identity_links: d.identity_links.map((l) => ({ ...l, created_at: iso(l.created_at)!, last_login_at: iso(l.last_login_at) })),
    email_verifications: d.email_verifications.map((m) => ({ created_at: iso(m.created_at)!, expires_at: iso(m.expires_at)!, used_at: iso(m.used_at) })),
    absence_warnings: d.absence_warnings.map((x) => ({ ...x, kind: x.kind as 'percentage' | 'consecutive', crossed_at: iso(x.crossed_at)!, student_mailed_at: iso(x.student_mailed_at) })),
    audit: d.audit.map((e) => ({ ...e, at: iso(e.at)! })),
  };
}

export function personalDataRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, events } = deps;

  /** Gathers the export and records who exported whose data, in one transaction; sent as a download. */
  async function exportOf(userId: string, by: Principal, ctx: Context) {
    const now = clock();
    const data = await store.transaction(async (tx) => {
      const found = await tx.personalData.export(userId);
      if (found) await tx.audit.record({ at: now, actorId: by.id, action: 'personal_data.export', target: userId });
      return found;
    });
    if (!data) throw notFound('user');
    ctx.set('Content-Disposition', `attachment; filename="personal-data-${userId}.json"`);
    return exportView(data, now);
  }

  routes.add(
    {
      method: 'get', path: '/api/v1/student/export', tag: 'student', auth: STUDENT, summary: 'Download everything kept about me',
      description: 'A JSON attachment: the account, enrolments, attendance records with their reasons, enrolled devices (public keys, no secrets), verifications, a summary of the accepted token windows, sign-in identity links, e-mail verification links (times only) and the audit entries by or about me. No password hash, token or challenge is ever in it. The export itself is audited.',
      response: exportOut,
    },
    ({ user, ctx }) => exportOf(user.id, user, ctx),
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/admin/users/:id/export', tag: 'admin', auth: ADMIN, summary: 'Download everything kept about an account',
      description: 'The same document a student downloads about themselves (GET /student/export), for any account. Audited.',
      params: idParams, response: exportOut, errors: [[404, 'not_found']],
    },
    ({ params, user, ctx }) => exportOf(params.id, user, ctx),
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/users/:id/erase', tag: 'admin', auth: ADMIN, summary: "Erase an account's identity",
      description: "Replaces the e-mail and name with a pseudonym, clears the sourced_id, deletes the password, WebAuthn credentials and challenges, verifications, raw token submissions, sign-in identity links and e-mail verification links, deactivates the account and ends its tokens at once. Attendance records, enrolments and audit entries stay, keyed by the same id, so course statistics are unchanged. Erasing again answers the same and changes nothing. The last active admin cannot be erased. Audited without the erased identity.",
      params: idParams, response: erasureOut, errors: [[404, 'not_found'], [409, 'last_admin']],
    },
    async ({ params, user }) => {
      const now = clock();
      let result;
      try {
        result = await store.transaction(async (tx) => {
          const r = await tx.personalData.erase(params.id, user.id, now);
          if (r?.erasedNow) await tx.audit.record({ at: now, actorId: user.id, action: 'personal_data.erase', target: params.id, details: { role: r.account.role, removed: r.removed } });
          return r;
        });
      } catch (e) {
        if (e instanceof LastAdminError) throw conflict('last_admin', 'this is the last active admin account; make another admin first');
        throw e;
      }
      if (!result) throw notFound('user');
      // After the commit: the token check's cached standing of the account is dropped at once.
      if (result.erasedNow) events.emit('account.tokens_revoked', { user_id: params.id });
      const { account, erasure } = result;
      return { id: account.id, role: account.role, email: account.email, full_name: account.full_name, erased_at: iso(erasure.erased_at)!, erased_by: erasure.erased_by };
    },
  );
}
