/**
 * The session's check-in keys for the room's gateway (`checkin_keys.set`, docs/protocol.md §The
 * session's check-in keys): the key id and public key of every active device of the students
 * enrolled in the session's course, nothing else about them. The whole set is sent every time,
 * in parts (shared/mqtt/checkin-keys.ts), through the command table like every command (queued
 * while the gateway is offline, published again until answered); a newer set cancels the parts
 * of an older one still pending. Only to a gateway that said it serves the GATT check-in.
 *
 * A set is sent when a session starts (the cloud's own start, right after its `session.start`;
 * a gateway's timetable start, when the ingest has recorded it), when the course's enrolments
 * change, when the gateway comes online, and by a periodic check (the hub's) that catches a
 * device approved, revoked or erased: each time the set is computed again and sent only if its
 * digest differs from the newest one queued for the session.
 */
import { SerialByKey } from './serial-by-key.js';
import type { Logger } from 'pino';
import { keySetParts } from '../../shared/mqtt/checkin-keys.js';
import type { Store } from '../store/db.js';
import type { Session } from '../store/schema.js';

export interface CheckinKeySyncDeps {
  store: Store;
  clock: () => number;
  logger: Logger;
  /** Publishes the room's pending commands (the hub's flush). */
  flushRoom: (roomId: string) => Promise<void>;
}

export class CheckinKeySync {
  /** One sync per session at a time: two at once would both queue the same set. */
  private readonly running = new SerialByKey();

  constructor(private readonly deps: CheckinKeySyncDeps) {}

  /** Queues the session's set if it changed since the last one queued. Never rejects (failures are logged). */
  sync(sessionId: string): Promise<void> {
    return this.running.run(sessionId, () => this.syncNow(sessionId), (err) => this.deps.logger.error({ err, sessionId }, 'check-in keys not queued'));
  }

  /** Every live session of the course (its enrolments changed), or of every room with a check-in gateway. */
  async syncLive(courseId?: string): Promise<void> {
    const sessions = await this.deps.store.checkins.liveSessionsWithCheckinGateway(courseId === undefined ? {} : { courseId });
    await Promise.all(sessions.map((s) => this.sync(s.id)));
  }

  /** The live sessions of the student's courses (one of the student's devices changed). */
  async syncStudent(studentId: string): Promise<void> {
    const sessions = await this.deps.store.checkins.liveSessionsWithCheckinGateway({ studentId });
    await Promise.all(sessions.map((s) => this.sync(s.id)));
  }

  /** The room's live session (its gateway came online). */
  async syncRoom(roomId: string): Promise<void> {
    const live = await this.deps.store.sessions.liveInRoom(roomId);
    if (live) await this.sync(live.id);
  }

  private async syncNow(sessionId: string): Promise<void> {
    const { store, logger } = this.deps;
    const session: Session | undefined = await store.sessions.get(sessionId);
    if (!session || session.state !== 'live') return;
    const gateway = await store.gateways.activeForRoom(session.room_id);
    if (!gateway || gateway.checkin_service !== 1) return;
    const keys = await store.checkins.activeKeysOfCourse(session.course_id);
    const parts = keySetParts(session.id, keys);
    if (!parts) {
      logger.warn({ sessionId, keys: keys.length }, 'too many check-in keys for one set: the gateway gets none and queues every check-in');
      return;
    }
    const digest = parts[0]!.digest;
    const last = await store.commands.forSession(session.id, 'checkin_keys.set');
    const lastDigest = last ? (JSON.parse(last.data) as { digest?: unknown }).digest : null;
    const retry = last?.state === 'failed' && last.error_code === 'internal_error';
    if (lastDigest === digest && last?.state !== 'cancelled' && !retry) return;
    const now = this.deps.clock();
    await store.transaction(async (tx) => {
      await tx.commands.cancelPending(session.room_id, 'checkin_keys.set', now);
      for (const data of parts) await tx.commands.enqueue({ roomId: session.room_id, type: 'checkin_keys.set', data, sessionId: session.id, now });
    });
    logger.info({ sessionId, roomId: session.room_id, keys: keys.length, parts: parts.length, digest }, 'check-in keys queued for the room gateway');
    await this.deps.flushRoom(session.room_id);
  }
}
