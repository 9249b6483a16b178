/**
 * The repositories of the cloud's database, one per aggregate. They are the only code that
 * builds queries: each owns its SQL, its row-to-view mapping and its constraint errors
 * (docs/architecture.md, "Persistence"). `Store.transaction` hands the same set bound to one
 * transaction, so a unit of work spanning aggregates commits or rolls back as one.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { AccountRepository } from './accounts.js';
import { CourseRepository } from './courses.js';
import { RoomRepository } from './rooms.js';
import { SessionRepository } from './sessions.js';
import { AttendanceRepository } from './attendance.js';
import { SubmissionRepository } from './submissions.js';
import { AnalyticsQueries } from './analytics.js';
import { AuditLog } from './audit.js';
import { GatewayRepository } from './gateways.js';
import { GatewayCommandRepository } from './gateway-commands.js';
import { TimetableRepository } from './timetable-slots.js';
import { WebAuthnRepository } from './webauthn.js';
import { EmailVerificationRepository } from './email-verifications.js';
import { OneRosterRepository } from './oneroster.js';
import { IdentityLinkRepository } from './identity-links.js';
import { PersonalDataRepository } from './personal-data.js';
import { CheckinRepository } from './checkins.js';
import { AbsenceWarningRepository } from './absence-warnings.js';

/** The database handle a repository works on: the pool, or one open transaction. */
export type Queryable = Kysely<Database>;

export interface Repositories {
  accounts: AccountRepository;
  courses: CourseRepository;
  rooms: RoomRepository;
  sessions: SessionRepository;
  attendance: AttendanceRepository;
  submissions: SubmissionRepository;
  analytics: AnalyticsQueries;
  audit: AuditLog;
  gateways: GatewayRepository;
  commands: GatewayCommandRepository;
  timetable: TimetableRepository;
  webauthn: WebAuthnRepository;
  emailVerifications: EmailVerificationRepository;
  oneRoster: OneRosterRepository;
  identityLinks: IdentityLinkRepository;
  personalData: PersonalDataRepository;
  checkins: CheckinRepository;
  absenceWarnings: AbsenceWarningRepository;
}

export function createRepositories(db: Queryable): Repositories {
  return {
    accounts: new AccountRepository(db),
    courses: new CourseRepository(db),
    rooms: new RoomRepository(db),
    sessions: new SessionRepository(db),
    attendance: new AttendanceRepository(db),
    submissions: new SubmissionRepository(db),
    analytics: new AnalyticsQueries(db),
    audit: new AuditLog(db),
    gateways: new GatewayRepository(db),
    commands: new GatewayCommandRepository(db),
    timetable: new TimetableRepository(db),
    webauthn: new WebAuthnRepository(db),
    emailVerifications: new EmailVerificationRepository(db),
    oneRoster: new OneRosterRepository(db),
    identityLinks: new IdentityLinkRepository(db),
    personalData: new PersonalDataRepository(db),
    checkins: new CheckinRepository(db),
    absenceWarnings: new AbsenceWarningRepository(db),
  };
}

/**
 * Runs `fn` in one transaction with the repositories bound to it: a new transaction on the pool,
 * or the caller's when `db` already is one (Kysely cannot nest them), so a repository method
 * that needs atomicity also works inside a larger unit of work.
 */
export function unitOfWork<T>(db: Queryable, fn: (tx: Repositories, trx: Queryable) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(createRepositories(db), db);
  return db.transaction().execute((trx) => fn(createRepositories(trx), trx));
}
