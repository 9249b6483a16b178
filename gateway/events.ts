/**
 * The gateway's event bus: the facts its parts exchange, each emitted once, by the part that made
 * it true — a store change only after its commit (docs/architecture.md, "Events"). Every part
 * registers with itself as owner and removes its listeners with `off(this)` when it stops.
 */
import type { Logger } from 'pino';
import { EventBus } from '../shared/event-bus.js';
import type { AdvertisingPayload, RadioState } from './ble/advertiser.js';
import type { LinkState } from './mqtt/link.js';
import type { RuntimeSettings } from './runtime-config.js';
import type { SessionRecord } from './store/sessions.js';

export interface GatewayEventMap {
  /** A commit started or ended a session: the live session now, or null. */
  'session.changed': [SessionRecord | null];
  /** A commit changed the settings the cloud may set at run time (`config.set`). */
  'config.changed': [RuntimeSettings];
  /** A commit stored a new timetable (`timetable.set`). */
  'timetable.changed': [];
  /** A commit appended events to the outbox (once per transaction). */
  'outbox.appended': [];
  /** A payload arrived on this gateway's cmd topic. */
  'command.received': [Buffer];
  'link.state': [LinkState];
  'radio.state': [RadioState];
  /** The controller now holds `payload` (null: advertising off). */
  'radio.applied': [{ payload: AdvertisingPayload | null; at: number }];
}

export class GatewayEvents extends EventBus<GatewayEventMap> {
  constructor(log: Logger) {
    super(log.child({ module: 'events' }));
  }
}
