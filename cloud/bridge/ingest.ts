/**
 * Gateway → cloud events (DESIGN §4): each envelope is validated with the shared schemas, checked
 * against the room the gateway serves, applied, and its id recorded in `ingested_events`.
 *
 * Exactly-once in effect: an id already recorded is skipped; otherwise the effect is applied and
 * the id recorded afterwards. Every effect is idempotent by itself (a session id is inserted once,
 * ending an ended session is a no-op, the token log has a primary key, a result settles a pending
 * command once), so a crash between the two steps makes a redelivery harmless, never lost. The
 * caller acknowledges the PUBLISH only after handle() returns, so nothing is lost either.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { parseEvent, type EventData, type EventType } from '../../shared/mqtt/messages.js';
import { MAX_PAYLOAD_BYTES } from '../../shared/mqtt/topics.js';
import type { CloudEvents } from '../events.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { Database, Room } from '../store/schema.js';
import { RoomBusyError, endSession, getSession, startSession } from '../store/sessions.js';
import { recordResult } from './command-store.js';
import { getGateway, recordRejection } from './gateway-store.js';
import { applyHeartbeat } from './heartbeat.js';
import { gatewayDb, type BridgeDb, type Gateway, type GatewayCommand } from './tables.js';

export type IngestOutcome = { result: 'applied'; type: EventType } | { result: 'duplicate'; type: EventType } | { result: 'rejected'; code: string };

export interface IngestDeps {
  db: Kysely<Database>;
  events: CloudEvents;
  verifiedLookup: VerifiedLookup;
  clock: () => number;
  logger: Logger;
  /** Called after a command.result settled a pending command. */
  onCommandResult?: (cmd: GatewayCommand) => void;
  /** Called before the cloud ends a session because its gateway ended it. */
  onSessionEndedByGateway?: (sessionId: string) => void;
}

class Rejection extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class EventIngest {
  private readonly db: BridgeDb;

  constructor(private readonly deps: IngestDeps) {
    this.db = gatewayDb(deps.db);
  }

  async handle(gatewayId: string, payload: Buffer): Promise<IngestOutcome> {
    const receivedAt = this.deps.clock();
    const log = this.deps.logger;
    const gateway = await getGateway(this.db, gatewayId);
    if (!gateway || gateway.revoked_at !== null) {
      // The broker already refuses revoked credentials; this covers an external broker's ACL gaps.
      log.warn({ gatewayId }, 'event rejected: unknown or revoked gateway');
      return { result: 'rejected', code: 'unknown_gateway' };
    }
    const parsed = parseEvent(payload, MAX_PAYLOAD_BYTES);
    if (!parsed.ok) return this.reject(gateway, parsed.code, parsed.message, parsed.id);
    const event = parsed.value;
    if (await this.db.selectFrom('ingested_events').select('id').where('id', '=', event.id).executeTakeFirst()) {
      log.debug({ gatewayId, eventId: event.id, type: event.type }, 'repeated event ignored');
      return { result: 'duplicate', type: event.type };
    }
    let outcome: IngestOutcome = { result: 'applied', type: event.type };
    try {
      await this.apply(gateway, event.type, event.data, receivedAt);
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      outcome = await this.reject(gateway, err.code, err.message, event.id);
    }
    // Semantically refused events are recorded too: a redelivery must not be refused (and logged) again.
    await this.db.insertInto('ingested_events')
      .values({ id: event.id, gateway_id: gatewayId, type: event.type, at: Date.parse(event.at), received_at: receivedAt })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return outcome;
  }

  private async reject(gateway: Gateway, code: string, message: string, eventId?: string): Promise<IngestOutcome> {
    this.deps.logger.warn({ gatewayId: gateway.id, eventId, code, detail: message.slice(0, 300) }, 'gateway event rejected');
    await recordRejection(this.db, gateway.id, `${code}: ${message}`);
    return { result: 'rejected', code };
  }

  private async apply(gateway: Gateway, type: EventType, data: unknown, receivedAt: number): Promise<void> {
    switch (type) {
      case 'session.started':
        return this.sessionStarted(gateway, data as EventData<'session.started'>);
      case 'session.ended':
        return this.sessionEnded(gateway, data as EventData<'session.ended'>, receivedAt);
      case 'token.rotated':
        return this.tokenRotated(gateway, data as EventData<'token.rotated'>, receivedAt);
      case 'heartbeat':
        return applyHeartbeat(this.db, gateway, data as EventData<'heartbeat'>, receivedAt);
      case 'command.result':
        return this.commandResult(gateway, data as EventData<'command.result'>, receivedAt);
    }
  }

  private async roomOf(gateway: Gateway): Promise<Room> {
    return this.db.selectFrom('rooms').selectAll().where('id', '=', gateway.room_id).executeTakeFirstOrThrow();
  }

  /** The session must exist and belong to the gateway's room (issue 6: no events for other rooms). */
  private async sessionInRoom(gateway: Gateway, sessionId: string) {
    const session = await getSession(this.deps.db, sessionId);
    if (!session) throw new Rejection('unknown_session', `session ${sessionId} is not known to the cloud`);
    if (session.room_id !== gateway.room_id) throw new Rejection('wrong_room', `session ${sessionId} belongs to another room`);
    return session;
  }

  /** Sessions the gateway started (timetable, offline, operator) appear in the cloud with its id. */
  private async sessionStarted(gateway: Gateway, d: EventData<'session.started'>): Promise<void> {
    const room = await this.roomOf(gateway);
    if (d.room_code !== room.room_code) throw new Rejection('wrong_room', `room code ${d.room_code} is not this gateway's room`);
    const existing = await getSession(this.deps.db, d.session_id);
    if (existing) {
      if (existing.room_id !== room.id) throw new Rejection('wrong_room', `session ${d.session_id} belongs to another room`);
      return; // a session the cloud started: the gateway reports it is on air
    }
    if (!d.course_id) throw new Rejection('course_required', 'a session without a course cannot be recorded');
    const course = await this.db.selectFrom('courses').selectAll().where('id', '=', d.course_id).executeTakeFirst();
    if (!course) throw new Rejection('unknown_course', `course ${d.course_id} does not exist`);
    try {
      const session = await startSession(this.deps.db, {
        id: d.session_id, course, room, periodS: d.period_s, startedAt: Date.parse(d.started_at),
        source: d.source === 'cloud' ? 'gateway' : d.source, startedBy: null,
      });
      this.deps.logger.info({ gatewayId: gateway.id, sessionId: session.id, source: session.source }, 'session started by the gateway');
      this.deps.events.emit('session.started', session);
    } catch (e) {
      if (e instanceof RoomBusyError) throw new Rejection('room_busy', `the room already has live session ${e.sessionId}`);
      throw e;
    }
  }

  private async sessionEnded(gateway: Gateway, d: EventData<'session.ended'>, receivedAt: number): Promise<void> {
    const session = await this.sessionInRoom(gateway, d.session_id);
    if (session.state !== 'live') return; // ended in the cloud first (teacher), or a repeat
    const course = await this.db.selectFrom('courses').selectAll().where('id', '=', session.course_id).executeTakeFirstOrThrow();
    // The gateway's clock says when; bounded by what the cloud knows to be possible.
    const endedAt = Math.min(Math.max(Date.parse(d.ended_at), session.started_at), receivedAt);
    this.deps.onSessionEndedByGateway?.(session.id);
    const ended = await endSession(this.deps.db, session, course, endedAt, null, this.deps.verifiedLookup);
    if (ended) {
      this.deps.logger.info({ gatewayId: gateway.id, sessionId: session.id, reason: d.reason }, 'session ended by the gateway');
      this.deps.events.emit('session.ended', ended);
    }
  }

  private async tokenRotated(gateway: Gateway, d: EventData<'token.rotated'>, receivedAt: number): Promise<void> {
    await this.sessionInRoom(gateway, d.session_id);
    await this.db.insertInto('token_log')
      .values({ session_id: d.session_id, w: d.w, advertised_at: Date.parse(d.advertised_at), gateway_id: gateway.id, received_at: receivedAt })
      .onConflict((oc) => oc.columns(['session_id', 'w', 'advertised_at']).doNothing())
      .execute();
  }

  private async commandResult(gateway: Gateway, d: EventData<'command.result'>, receivedAt: number): Promise<void> {
    const cmd = await this.db.selectFrom('gateway_commands').select('room_id').where('id', '=', d.command_id).executeTakeFirst();
    if (!cmd) throw new Rejection('unknown_command', `command ${d.command_id} was not sent by the cloud`);
    if (cmd.room_id !== gateway.room_id) throw new Rejection('wrong_room', `command ${d.command_id} was for another room`);
    const settled = await recordResult(this.db, { commandId: d.command_id, ok: d.ok, ...(d.error ? { error: d.error } : {}), now: receivedAt });
    if (settled) this.deps.onCommandResult?.(settled);
  }
}
