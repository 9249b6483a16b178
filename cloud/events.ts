/**
 * The cloud's domain events: facts, each emitted once by the code that committed it, after the
 * commit (docs/architecture.md, "Events"). The dashboard's live stream, the submission caches,
 * the account standings behind token checks and metrics listen here.
 */
import type { Logger } from 'pino';
import { EventBus } from '../shared/event-bus.js';
import type { Session } from './store/schema.js';

export interface CloudEventMap {
  'session.started': [Session];
  'session.ended': [Session];
  'submission.accepted': [{ session_id: string; student_id: string; w: number; at: number }];
  'attendance.overridden': [{ session_id: string; student_id: string; status: string }];
  'enrollment.changed': [{ course_id: string }];
  /** The account's token version rose or it was (de)activated: its earlier tokens no longer hold. */
  'account.tokens_revoked': [{ user_id: string }];
}

export class CloudEvents extends EventBus<CloudEventMap> {
  constructor(logger: Logger) {
    super(logger.child({ module: 'events' }));
  }
}
