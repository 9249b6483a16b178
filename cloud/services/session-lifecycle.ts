/**
 * Starting and ending sessions: the commit, then the domain event, then the room's gateway.
 * The event is emitted once, after the commit, so every listener sees a fact (docs/architecture.md,
 * "Events"); the gateway's confirmation is asked for by a direct call to the hub, which sends the
 * command and waits for the answer, so nothing depends on what a listener did.
 */
import type { CloudEvents } from '../events.js';
import type { GatewayAck, SessionCommand } from '../bridge/hub.js';
import type { Store } from '../store/db.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { EndSessionInput, StartSessionInput } from '../store/sessions.js';
import type { Session } from '../store/schema.js';

export interface SessionGateways {
  /** Sends the command to the session's room gateway and answers how far it got. */
  sessionCommand(session: Session, command: SessionCommand): Promise<GatewayAck>;
}

export interface SessionLifecycleDeps {
  store: Store;
  events: CloudEvents;
  verifiedLookup: VerifiedLookup;
  /** The gateway hub; absent with MQTT disabled (then nobody is asked). */
  gateways?: SessionGateways;
}

export interface SessionChange {
  session: Session;
  /** The room gateway's answer; null when there is no gateway link. */
  gateway: GatewayAck | null;
}

export class SessionLifecycle {
  constructor(private readonly deps: SessionLifecycleDeps) {}

  /** Starts a session; throws RoomBusyError (cloud/store/sessions.ts) when the room has a live one. */
  async start(input: StartSessionInput): Promise<SessionChange> {
    const session = await this.deps.store.sessions.start(input);
    this.deps.events.emit('session.started', session);
    return { session, gateway: await this.confirm(session, 'session.start') };
  }

  /**
   * Ends a live session, writing every enrolled student's decision and the audit row in one
   * transaction. Null when the session was no longer live (someone else ended it first).
   */
  async end(input: Omit<EndSessionInput, 'verifiedLookup'>): Promise<SessionChange | null> {
    const ended = await this.deps.store.sessions.end({ ...input, verifiedLookup: this.deps.verifiedLookup });
    if (!ended) return null;
    this.deps.events.emit('session.ended', ended);
    return { session: ended, gateway: await this.confirm(ended, 'session.end') };
  }

  /**
   * Only for changes made in the cloud: sessions a gateway started or ended itself arrive through
   * the ingest (cloud/bridge/ingest.ts), which commits and emits them and never sends them back.
   */
  private async confirm(session: Session, command: SessionCommand): Promise<GatewayAck | null> {
    if (!this.deps.gateways) return null;
    return this.deps.gateways.sessionCommand(session, command);
  }
}
