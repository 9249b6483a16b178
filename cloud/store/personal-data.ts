/**
 * A person's data across the aggregates (docs/privacy.md): the export of everything kept about an
 * account, and its erasure. Both are read or written in one transaction, so an export is one
 * consistent picture and an erasure happens completely or not at all.
 *
 * Erasure replaces the identity (e-mail, name, sourced_id) with a pseudonym and deletes what only
 * serves to sign in or to prove presence (password, WebAuthn credentials with their check-in keys,
 * challenges, verifications, raw submissions, the windows a gateway witnessed the phone in with its
 * BLE address, the check-ins refused for the person's keys, identity links and unredeemed sign-in
 * codes, e-mail verification links); audit details that name one of its check-in key ids get
 * `erased` instead. The account row and its id stay, so the attendance decisions (with their count
 * of witnessed windows), enrolments and audit entries keyed by that id keep every course's
 * statistics as they were, now pointing at a pseudonymous account.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { StudentRecord } from './attendance.js';
import { unitOfWork, type Queryable } from './repositories.js';
import type { AuditLogTable, CheckinRefusalsTable, IdentityLinksTable, StoredCredential, User, Verification, WitnessedWindow } from './schema.js';

/** Not a scrypt hash, so no password ever matches it (cloud/auth/passwords.ts). */
const UNUSABLE_PASSWORD_HASH = 'erased';

/** The account as its owner may see it: everything but the password hash and the token version. */
export type AccountRecord = Omit<User, 'password_hash' | 'token_version'>;

export interface EnrolmentRecord {
  course_id: string;
  course_code: string;
  course_name: string;
  term: { id: string; name: string; starts_on: string; ends_on: string } | null;
  enrolled_at: number;
}

/**
 * A WebAuthn credential without its signature counter (the public key and ids are no secrets,
 * docs/privacy.md). Of its check-in key only the key_id: null when none is enrolled.
 */
export type DeviceRecord = Omit<StoredCredential, 'student_id' | 'counter' | 'checkin_key'>;

/** A window the room's gateway witnessed the student's phone in (proof of proximity), with the phone's BLE address. */
export type WitnessedWindowRecord = Omit<WitnessedWindow, 'student_id' | 'event_id' | 'received_at'>;

/** A check-in the cloud refused for one of the student's check-in keys. */
export type CheckinRefusalRecord = Omit<CheckinRefusalsTable, 'id' | 'event_id' | 'received_at'>;

/** The token windows a student had accepted in one session (raw submissions, summarised). */
export interface SubmissionSummary {
  session_id: string;
  course_id: string;
  windows: number;
  first_received_at: number;
  last_received_at: number;
}

export interface ErasureRecord {
  erased_at: number;
  erased_by: string | null;
}

export interface PersonalData {
  account: AccountRecord;
  erasure: ErasureRecord | null;
  enrolments: EnrolmentRecord[];
  /** The records of ended sessions, as the student's own view shows them. */
  attendance: StudentRecord[];
  devices: DeviceRecord[];
  verifications: Array<Omit<Verification, 'student_id' | 'counter'>>;
  submissions: SubmissionSummary[];
  witnessed_windows: WitnessedWindowRecord[];
  checkin_refusals: CheckinRefusalRecord[];
  identity_links: Array<Omit<IdentityLinksTable, 'user_id'>>;
  /** One-time e-mail links: only when they were made and used (their token and pending password hashes are secrets). */
  email_verifications: Array<{ created_at: number; expires_at: number; used_at: number | null }>;
  /** The absence warnings the account was sent (or is due), per course and rule. */
  absence_warnings: Array<{ course_id: string; kind: string; value: number; crossed_at: number; student_mailed_at: number | null }>;
  /** Entries by the account (actor) or about it (target, or named in the details). */
  audit: Array<Omit<AuditLogTable, 'id' | 'details'> & { id: number; details: unknown }>;
}

export interface ErasureResult {
  account: User;
  erasure: ErasureRecord;
  /** False when the account had been erased before: nothing changed. */
  erasedNow: boolean;
  /** Rows deleted per table (all zero when `erasedNow` is false). */
  removed: Record<(typeof ERASED_TABLES)[number], number>;
}

/** The tables erasure deletes the account's rows from, in the order it does. */
const ERASED_TABLES = [
  'checkin_refusals', 'witnessed_windows', 'verifications', 'webauthn_credentials', 'webauthn_challenges', 'submissions', 'identity_links', 'oidc_codes', 'email_verifications', 'absence_warnings',
] as const;

/** How a string appears inside a stored JSON text (audit details). */
const inJson = (s: string) => JSON.stringify(s).slice(1, -1);

export class PersonalDataRepository {
  constructor(private readonly db: Queryable) {}

  /** Audit entries by or about the account (ids are UUIDs: no LIKE wildcard in them). */
  private auditAbout(db: Queryable, userId: string) {
    return db.selectFrom('audit_log').where((eb) => eb.or([
      eb('actor_id', '=', userId),
      eb('target', '=', userId),
      eb('target', 'like', `%${userId}%`),
      eb('details', 'like', `%${userId}%`),
    ]));
  }

  /**
   * Refusals tie to a person only through a check-in key: one enrolled with any of their devices,
   * or one a gateway witnessed them with. A refusal for a key nobody holds ties to no one.
   */
  private refusalsOf(db: Queryable, userId: string) {
    return db.selectFrom('checkin_refusals').where((eb) => eb.or([
      eb('key_id', 'in', eb.selectFrom('webauthn_credentials').select('checkin_key_id').where('student_id', '=', userId).where('checkin_key_id', 'is not', null).$narrowType<{ checkin_key_id: string }>()),
      eb('key_id', 'in', eb.selectFrom('witnessed_windows').select('key_id').where('student_id', '=', userId)),
    ]));
  }

  /** Every check-in key id the person's devices hold or a gateway witnessed them with. */
  private async keyIdsOf(db: Queryable, userId: string): Promise<string[]> {
    const [enrolled, witnessed] = await Promise.all([
      db.selectFrom('webauthn_credentials').select('checkin_key_id').where('student_id', '=', userId).execute(),
      db.selectFrom('witnessed_windows').select('key_id').distinct().where('student_id', '=', userId).execute(),
    ]);
    return [...new Set([...enrolled.map((r) => r.checkin_key_id), ...witnessed.map((r) => r.key_id)])].filter((k): k is string => k !== null);
  }

  /** Everything kept about the account, or undefined when there is none. */
  export(userId: string): Promise<PersonalData | undefined> {
    return unitOfWork(this.db, async (tx, trx) => {
      const user = await tx.accounts.get(userId);
      if (!user) return undefined;
      const { password_hash: _hash, token_version: _version, ...account } = user;
      const [erasure, enrolments, attendance, credentials, verifications, submissions, witnessed, refusals, links, mails, warnings, audit] = await Promise.all([
        trx.selectFrom('account_erasures').select(['erased_at', 'erased_by']).where('user_id', '=', userId).executeTakeFirst(),
        trx.selectFrom('enrollments').innerJoin('courses', 'courses.id', 'enrollments.course_id').leftJoin('terms', 'terms.id', 'courses.term_id')
          .select(['courses.id as course_id', 'courses.code', 'courses.name', 'enrollments.created_at', 'terms.id as term_id', 'terms.name as term_name', 'terms.starts_on', 'terms.ends_on'])
          .where('enrollments.student_id', '=', userId).orderBy('enrollments.created_at').orderBy('courses.code').execute(),
        tx.attendance.ofStudent(userId, { limit: Number.MAX_SAFE_INTEGER }),
        tx.webauthn.credentialsOfStudent(userId),
        trx.selectFrom('verifications').select(['id', 'session_id', 'credential_id', 'at', 'uv', 'backed_up']).where('student_id', '=', userId).orderBy('at').execute(),
        trx.selectFrom('submissions').innerJoin('sessions', 'sessions.id', 'submissions.session_id')
          .select((eb) => ['submissions.session_id', 'sessions.course_id', eb.fn.countAll<number>().as('windows'), eb.fn.min('submissions.received_at').as('first'), eb.fn.max('submissions.received_at').as('last')])
          .where('submissions.student_id', '=', userId).groupBy(['submissions.session_id', 'sessions.course_id']).orderBy('first').execute(),
        trx.selectFrom('witnessed_windows').select(['session_id', 'w', 'key_id', 'gateway_id', 'rssi', 'peer', 'latency_ms', 'at'])
          .where('student_id', '=', userId).orderBy('at').orderBy('session_id').orderBy('w').execute(),
        this.refusalsOf(trx, userId).select(['session_id', 'w', 'key_id', 'gateway_id', 'reason', 'at']).orderBy('at').orderBy('id').execute(),
        trx.selectFrom('identity_links').select(['issuer', 'subject', 'created_at', 'last_login_at']).where('user_id', '=', userId).orderBy('created_at').execute(),
        trx.selectFrom('email_verifications').select(['created_at', 'expires_at', 'used_at']).where('user_id', '=', userId).orderBy('created_at').execute(),
        trx.selectFrom('absence_warnings').select(['course_id', 'kind', 'value', 'crossed_at', 'student_mailed_at']).where('student_id', '=', userId).orderBy('crossed_at').orderBy('course_id').orderBy('kind').execute(),
        this.auditAbout(trx, userId).selectAll().orderBy('id').execute(),
      ]);
      return {
        account,
        erasure: erasure ? { erased_at: Number(erasure.erased_at), erased_by: erasure.erased_by } : null,
        enrolments: enrolments.map((e) => ({
          course_id: e.course_id, course_code: e.code, course_name: e.name, enrolled_at: Number(e.created_at),
          term: e.term_id ? { id: e.term_id, name: e.term_name!, starts_on: e.starts_on!, ends_on: e.ends_on! } : null,
        })),
        attendance,
        devices: credentials.map(({ student_id: _s, counter: _c, checkin_key: _k, ...device }) => device),
        verifications,
        submissions: submissions.map((s) => ({ session_id: s.session_id, course_id: s.course_id, windows: Number(s.windows), first_received_at: Number(s.first), last_received_at: Number(s.last) })),
        witnessed_windows: witnessed.map((x) => ({ ...x, w: Number(x.w), latency_ms: Number(x.latency_ms), at: Number(x.at) })),
        checkin_refusals: refusals.map((r) => ({ ...r, w: Number(r.w), at: Number(r.at) })),
        identity_links: links,
        email_verifications: mails,
        absence_warnings: warnings.map((x) => ({ ...x, value: Number(x.value), crossed_at: Number(x.crossed_at), student_mailed_at: x.student_mailed_at === null ? null : Number(x.student_mailed_at) })),
        audit: audit.map((a) => ({ ...a, id: Number(a.id), details: JSON.parse(a.details) as unknown })),
      };
    });
  }

  /**
   * Erases the account's identity (module comment), deactivates it and raises its token version,
   * in one transaction. Undefined when there is no such account; throws LastAdminError when it is
   * the last active admin (from `accounts.change`). An account erased before is answered as it was then, unchanged.
   */
  erase(userId: string, by: string, now: number): Promise<ErasureResult | undefined> {
    return unitOfWork(this.db, async (tx, trx) => {
      const before = await tx.accounts.get(userId);
      if (!before) return undefined;
      // The erasure's row first: of two concurrent erasures one inserts, the other waits and sees it.
      const inserted = await trx.insertInto('account_erasures').values({ user_id: userId, erased_at: now, erased_by: by })
        .onConflict((oc) => oc.column('user_id').doNothing()).returning('user_id').executeTakeFirst();
      if (!inserted) {
        const erasure = await trx.selectFrom('account_erasures').select(['erased_at', 'erased_by']).where('user_id', '=', userId).executeTakeFirstOrThrow();
        const removed = Object.fromEntries(ERASED_TABLES.map((t) => [t, 0])) as ErasureResult['removed'];
        // Read again: a concurrent erasure may have committed while this insert waited for it.
        const account = (await tx.accounts.get(userId))!;
        return { account, erasure: { erased_at: Number(erasure.erased_at), erased_by: erasure.erased_by }, erasedNow: false, removed };
      }
      // Deactivation refuses the last active admin (LastAdminError rolls everything back).
      await tx.accounts.change(userId, { deactivatedAt: now });

      const pseudonym = { email: `erased-${randomBytes(9).toString('hex')}@invalid`, full_name: `Erased ${before.role}` };
      // Free text kept about the person (audit details, override reasons) may quote the identity,
      // and an enrolment's audit entry names the device's check-in key, which the phone still holds.
      const replacements: Array<[string, string]> = [[before.email, pseudonym.email], [before.full_name, pseudonym.full_name], ...(await this.keyIdsOf(trx, userId)).map((k): [string, string] => [k, 'erased'])];
      const scrub = (column: 'details' | 'target' | 'override_reason', quoted: (s: string) => string = (s) => s) =>
        replacements.reduce((text, [from, to]) => sql<string>`replace(${text}, ${quoted(from)}, ${to})`, sql<string>`${sql.ref(column)}`);
      const about = (await this.auditAbout(trx, userId).select('id').execute()).map((r) => r.id);
      if (about.length) await trx.updateTable('audit_log').set({ details: scrub('details', inJson), target: scrub('target') }).where('id', 'in', about).execute();
      await trx.updateTable('attendance').set({ override_reason: scrub('override_reason') }).where('student_id', '=', userId).where('override_reason', 'is not', null).execute();

      const count = async (q: { executeTakeFirst(): Promise<{ numDeletedRows: bigint }> }) => Number((await q.executeTakeFirst()).numDeletedRows);
      // Refusals are found through the keys on the credentials and witnessed windows, so they go
      // before both; verifications name the credential that signed them, so they go before it.
      const removed: ErasureResult['removed'] = {
        checkin_refusals: await count(trx.deleteFrom('checkin_refusals').where('id', 'in', this.refusalsOf(trx, userId).select('id'))),
        witnessed_windows: await count(trx.deleteFrom('witnessed_windows').where('student_id', '=', userId)),
        verifications: await count(trx.deleteFrom('verifications').where('student_id', '=', userId)),
        webauthn_credentials: await count(trx.deleteFrom('webauthn_credentials').where('student_id', '=', userId)),
        webauthn_challenges: await count(trx.deleteFrom('webauthn_challenges').where('student_id', '=', userId)),
        submissions: await count(trx.deleteFrom('submissions').where('student_id', '=', userId)),
        identity_links: await count(trx.deleteFrom('identity_links').where('user_id', '=', userId)),
        oidc_codes: await count(trx.deleteFrom('oidc_codes').where('user_id', '=', userId)),
        email_verifications: await count(trx.deleteFrom('email_verifications').where('user_id', '=', userId)),
        absence_warnings: await count(trx.deleteFrom('absence_warnings').where('student_id', '=', userId)),
      };
      const account = await trx.updateTable('users')
        .set({ ...pseudonym, password_hash: UNUSABLE_PASSWORD_HASH, sourced_id: null, email_verified_at: null, token_version: sql`token_version + 1` })
        .where('id', '=', userId).returningAll().executeTakeFirstOrThrow();
      return { account, erasure: { erased_at: now, erased_by: by }, erasedNow: true, removed };
    });
  }
}
