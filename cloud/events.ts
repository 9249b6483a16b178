/**
 * In-process events of the cloud: what the MQTT bridge, the dashboard's live stream and metrics
 * react to. Listeners must not throw into the emitter (see `safeOn`).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Session } from './store/schema.js';

export interface CloudEventMap {
  'session.started': [Session];
  'session.ended': [Session];
  'submission.accepted': [{ session_id: string; student_id: string; w: number; at: number }];
  'attendance.overridden': [{ session_id: string; student_id: string; status: string }];
  'enrollment.changed': [{ course_id: string }];
}

export class CloudEvents extends EventEmitter<CloudEventMap> {
  constructor() {
    super();
    // Each open dashboard live stream listens here (at most 500 streams, cloud/dashboard/live-stream.ts);
    // a count above this bound would still be reported as a leak.
    this.setMaxListeners(1100);
  }

  /** Subscribes a listener whose failures are logged instead of breaking the emitting request. */
  safeOn<K extends keyof CloudEventMap>(event: K, logger: Logger, fn: (...args: CloudEventMap[K]) => unknown): () => void {
    const wrapped = (...args: CloudEventMap[K]) => {
      try {
        const r = fn(...args);
        if (r instanceof Promise) r.catch((err: unknown) => logger.error({ err, event }, 'event listener failed'));
      } catch (err) {
        logger.error({ err, event }, 'event listener failed');
      }
    };
    this.on(event, wrapped as never);
    return () => this.off(event, wrapped as never);
  }
}
