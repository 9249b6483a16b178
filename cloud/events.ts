/**
 * The cloud's domain events: facts, each emitted once by the code that committed it, after the
 * commit (docs/architecture.md, "Events"). The dashboard's live stream, the submission caches,
 * the account standings behind token checks, the change feed and metrics listen here.
 */
import type { Logger } from 'pino';
import { EventBus } from '../shared/event-bus.js';
import type { Session } from './store/schema.js';
import type { Change } from './store/change-feed.js';

export interface CloudEventMap {
  'session.started': [Session];
  'session.ended': [Session];
  'submission.accepted': [{ session_id: string; student_id: string; w: number; at: number }];
  /** The room's gateway witnessed a student in a window not witnessed before (a check-in counted). */
  'checkin.witnessed': [{ session_id: string; student_id: string; w: number }];
  'attendance.overridden': [{ session_id: string; student_id: string; status: string }];
  'enrollment.changed': [{ course_id: string }];
  /** One of the student's devices was enrolled, approved or revoked: its check-in key counts or no longer does. */
  'device.changed': [{ student_id: string }];
  /** The account's token version rose or it was (de)activated: its earlier tokens no longer hold. */
  'account.tokens_revoked': [{ user_id: string }];
  /** A course's attendance policy changed. */
  'course.policy_changed': [{ course_id: string }];
  /** A gateway's credentials were revoked (by an admin, or by provisioning its room again). */
  'gateway.revoked': [{ gateway_id: string }];
  /** A gateway's `command.result` settled a pending command (confirmed or failed), committed. */
  'command.settled': [{ command_id: string }];
  /**
   * Another cloud instance committed a change this instance may hold in a cache, or (`all`) the
   * change feed may have missed some (cloud/store/change-feed.ts). Never emitted on SQLite.
   */
  'changes.remote': [Change];
}

export class CloudEvents extends EventBus<CloudEventMap> {
  constructor(logger: Logger) {
    super(logger.child({ module: 'events' }));
  }
}
