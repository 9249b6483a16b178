/**
 * Proof of proximity (docs/api.md, "Proof of proximity"): the check-in keys enrolled with the
 * passkeys (stored on the credential row, so revoking or erasing the device takes the key with
 * it), the windows a room's gateway witnessed a student in, and the check-ins the cloud refused.
 * The primary key (session, student, w) of a witnessed window makes every retry and every second
 * check-in for one window a no-op.
 */
import { unitOfWork, type Queryable } from './repositories.js';
import type { CredentialStatus, Session, StoredCredential, WitnessedWindow, CheckinRefusalsTable } from './schema.js';
import type { WitnessedElsewhere } from '../domain/relay-flags.js';
import { MAX_PERIOD_S } from '../../shared/token.js';
import { WebAuthnRepository } from './webauthn.js';

/** Another student's device holds this check-in key (the unique key_id). */
export class CheckinKeyTakenError extends Error {}

/** The device a check-in key belongs to, as the ingest needs it. */
export interface CheckinKeyHolder {
  credentialId: string;
  studentId: string;
  status: CredentialStatus;
  /** SPKI DER, base64url. */
  spki: string;
}

export type NewRefusal = Omit<CheckinRefusalsTable, 'id'>;

/** The witnessed windows of a session, one per (student, w), with what the relay flags read. */
export type WitnessedRow = Pick<WitnessedWindow, 'student_id' | 'w' | 'key_id' | 'peer' | 'latency_ms' | 'at'>;

export class CheckinRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Stores a newly registered credential with its check-in key in one transaction. The key moves
   * from an older credential of the same student (the device registered a new passkey); held by
   * another student's device it is refused with CheckinKeyTakenError and nothing is stored.
   */
  enrolCredential(row: StoredCredential): Promise<void> {
    return unitOfWork(this.db, async (_tx, trx) => {
      if (row.checkin_key_id !== null) {
        const holder = await trx.selectFrom('webauthn_credentials').select(['id', 'student_id']).where('checkin_key_id', '=', row.checkin_key_id).executeTakeFirst();
        if (holder && holder.student_id !== row.student_id) throw new CheckinKeyTakenError(row.checkin_key_id);
        if (holder) await trx.updateTable('webauthn_credentials').set({ checkin_key: null, checkin_key_id: null }).where('id', '=', holder.id).execute();
      }
      await new WebAuthnRepository(trx).insertCredential(row);
    });
  }

  /** The device holding a check-in key (by key_id, hex), whatever its status. */
  async keyHolder(keyIdHex: string): Promise<CheckinKeyHolder | undefined> {
    const r = await this.db.selectFrom('webauthn_credentials').select(['id', 'student_id', 'status', 'checkin_key']).where('checkin_key_id', '=', keyIdHex).executeTakeFirst();
    return r?.checkin_key ? { credentialId: r.id, studentId: r.student_id, status: r.status, spki: r.checkin_key } : undefined;
  }

  /** Records a witnessed window; false when that (session, student, w) was witnessed already. */
  async recordWitnessed(row: WitnessedWindow): Promise<boolean> {
    const res = await this.db.insertInto('witnessed_windows').values(row).onConflict((oc) => oc.columns(['session_id', 'student_id', 'w']).doNothing()).executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async recordRefusal(row: NewRefusal): Promise<void> {
    await this.db.insertInto('checkin_refusals').values(row).execute();
  }

  /** The refused check-ins of a session, oldest first. */
  refusalsOf(sessionId: string): Promise<NewRefusal[]> {
    return this.db.selectFrom('checkin_refusals').select(['event_id', 'gateway_id', 'session_id', 'key_id', 'w', 'reason', 'at', 'received_at']).where('session_id', '=', sessionId).orderBy('id').execute();
  }

  /**
   * Retention (cloud/jobs/retention.ts): the witnessed windows and refusals of sessions that ended
   * before `endedBefore`, and refusals naming no session at all that were received before it.
   */
  async purgeEndedBefore(endedBefore: number): Promise<{ witnessedWindows: number; checkinRefusals: number }> {
    const oldSessions = this.db.selectFrom('sessions').select('id').where('state', '=', 'ended').where('ended_at', '<', endedBefore);
    const witnessed = await this.db.deleteFrom('witnessed_windows').where('session_id', 'in', oldSessions).executeTakeFirst();
    const refusals = await this.db.deleteFrom('checkin_refusals').where((eb) => eb.or([
      eb('session_id', 'in', oldSessions),
      eb.and([eb('received_at', '<', endedBefore), eb.not(eb.exists(eb.selectFrom('sessions').select('id').whereRef('sessions.id', '=', 'checkin_refusals.session_id')))]),
    ])).executeTakeFirst();
    return { witnessedWindows: Number(witnessed.numDeletedRows), checkinRefusals: Number(refusals.numDeletedRows) };
  }

  witnessedOf(sessionId: string): Promise<WitnessedRow[]> {
    return this.db.selectFrom('witnessed_windows').select(['student_id', 'w', 'key_id', 'peer', 'latency_ms', 'at']).where('session_id', '=', sessionId).orderBy('w').execute();
  }

  /**
   * Witnessed windows of these keys in sessions of other rooms, received while the session ran
   * (give or take the longest period): what the two-rooms relay flag compares with.
   */
  async witnessedElsewhere(session: Session, keyIds: string[], now: number): Promise<WitnessedElsewhere[]> {
    if (!keyIds.length) return [];
    const margin = MAX_PERIOD_S * 1000;
    return this.db.selectFrom('witnessed_windows').innerJoin('sessions', 'sessions.id', 'witnessed_windows.session_id')
      .select(['witnessed_windows.key_id', 'witnessed_windows.w', 'sessions.period_s', 'sessions.room_id', 'witnessed_windows.session_id'])
      .where('witnessed_windows.key_id', 'in', keyIds).where('sessions.room_id', '!=', session.room_id)
      .where('witnessed_windows.at', '>=', session.started_at - margin).where('witnessed_windows.at', '<=', (session.ended_at ?? now) + margin)
      .execute();
  }
  /**
   * The check-in keys a room's gateway may hold for a session of the course (cloud/bridge/checkin-keys.ts):
   * those of the active devices of the students enrolled in it, key id and public key only.
   */
  activeKeysOfCourse(courseId: string): Promise<Array<{ key_id: string; key: string }>> {
    return this.db.selectFrom('webauthn_credentials').innerJoin('enrollments', 'enrollments.student_id', 'webauthn_credentials.student_id')
      .select(['webauthn_credentials.checkin_key_id as key_id', 'webauthn_credentials.checkin_key as key'])
      .where('enrollments.course_id', '=', courseId).where('webauthn_credentials.status', '=', 'active')
      .where('webauthn_credentials.checkin_key_id', 'is not', null).where('webauthn_credentials.checkin_key', 'is not', null)
      .orderBy('webauthn_credentials.checkin_key_id')
      .$narrowType<{ key_id: string; key: string }>()
      .execute();
  }

  /** Live sessions (of one course, or all) whose room's active gateway said it serves the GATT check-in. */
  liveSessionsWithCheckinGateway(only: { courseId?: string; studentId?: string } = {}): Promise<Session[]> {
    let q = this.db.selectFrom('sessions').innerJoin('gateways', 'gateways.room_id', 'sessions.room_id').selectAll('sessions')
      .where('sessions.state', '=', 'live').where('gateways.revoked_at', 'is', null).where('gateways.checkin_service', '=', 1);
    if (only.courseId !== undefined) q = q.where('sessions.course_id', '=', only.courseId);
    const { studentId } = only;
    if (studentId !== undefined) {
      q = q.where((eb) => eb.exists(eb.selectFrom('enrollments').select('enrollments.student_id')
        .whereRef('enrollments.course_id', '=', 'sessions.course_id').where('enrollments.student_id', '=', studentId)));
    }
    return q.execute();
  }
}
