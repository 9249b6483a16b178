/**
 * Gateway → cloud events (docs/protocol.md §MQTT): each envelope is validated with the shared schemas, checked
 * against the room the gateway serves, applied, and its id recorded in `ingested_events`.
 *
 * Exactly-once in effect: token.rotated, heartbeat, command.result and checkin.received insert
 * their id and apply their effect in one transaction (a repeated id inserts nothing and changes nothing). The session
 * lifecycle events use the session repository's own transactions, so there an id already recorded
 * is skipped, otherwise the effect is applied and the id recorded afterwards; those effects are
 * idempotent by themselves (a session id is inserted once, ending an ended session is a no-op),
 * so a crash between the two steps makes a redelivery harmless. The caller acknowledges the
 * PUBLISH only after handle() returns, so nothing is lost either.
 *
 * A session the gateway started or ended is committed here and `session.started` /
 * `session.ended` emitted once, after the commit. The hub is not asked: nothing goes back to the
 * gateway that reported it. Its course, room and times are checked first
 * (gateway-session-checks.ts); a refused one is recorded like any refusal, so a redelivery is not
 * refused again.
 */
import type { Logger } from 'pino';
import { parseEvent, type EventData, type EventType } from '../../shared/mqtt/messages.js';
import { MAX_PAYLOAD_BYTES } from '../../shared/mqtt/topics.js';
import type { CloudEvents } from '../events.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { Store } from '../store/db.js';
import type { Change } from '../store/change-feed.js';
import type { Repositories } from '../store/repositories.js';
import type { Gateway, Room, Session } from '../store/schema.js';
import { RoomBusyError } from '../store/sessions.js';
import { checkGatewayEnd, checkGatewayStart, type Checked, type SessionCheckSettings } from './gateway-session-checks.js';
import { applyHeartbeat } from './heartbeat.js';
import { applyCheckin } from './checkin.js';

export type IngestOutcome =
  | { result: 'applied' | 'duplicate'; gatewayId: string; type: EventType; id: string }
  | { result: 'rejected'; gatewayId: string; code: string; id?: string };

export interface Incoming {
  gatewayId: string;
  payload: Buffer;
}

/** An event that passed the envelope checks, with the row that records its id. */
interface Prepared {
  gateway: Gateway;
  type: EventType;
  data: unknown;
  receivedAt: number;
  record: { id: string; gateway_id: string; type: string; at: number; received_at: number };
}

export interface IngestDeps {
  store: Store;
  events: CloudEvents;
  verifiedLookup: VerifiedLookup;
  clock: () => number;
  logger: Logger;
  /** The institution's time zone, in which the room's timetable slots are read. */
  timezone: string;
  /** ATTENDANCE_GATEWAY_START_TOLERANCE_S in ms: how far a gateway's session times may be from the cloud's clock. */
  startToleranceMs: number;
}

/** The domain event a session event's commit made true, emitted by handleSessionEvent after it. */
type SessionFact = { event: 'session.started' | 'session.ended'; session: Session } | null;

class Rejection extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const GATEWAY_CACHE_MS = 1000;

/** The time a session check accepted, on the cloud's clock; a refusal becomes the event's rejection. */
function accepted(c: Checked): number {
  if (!c.ok) throw new Rejection(c.code, c.message);
  return c.at;
}

export class EventIngest {
  private readonly gateways = new Map<string, { gateway: Gateway; at: number }>();
  private readonly sessionChecks: SessionCheckSettings;

  constructor(private readonly deps: IngestDeps) {
    this.sessionChecks = { timezone: deps.timezone, toleranceMs: deps.startToleranceMs };
  }

  private get store(): Store {
    return this.deps.store;
  }

  /** Drops what the cache holds about a change (wired to the change feed's `onChange` by the composition root). */
  forget(change: Change): void {
    if (change.kind === 'all') this.gateways.clear();
    else if (change.kind === 'gateway') this.gateways.delete(change.id);
  }

  /** Ingests one event; resolves once its effect is committed (or it was refused). */
  async handle(gatewayId: string, payload: Buffer): Promise<IngestOutcome> {
    const [outcome] = await this.handleBatch([{ gatewayId, payload }]);
    return outcome!;
  }

  /**
   * Ingests events in their order. Consecutive frequent events share one transaction (each id
   * still counts once, and a refused one does not undo the others); a session event commits the
   * batch so far first, so the order of effects is the order of arrival.
   */
  async handleBatch(items: Incoming[]): Promise<IngestOutcome[]> {
    const outcomes: IngestOutcome[] = new Array(items.length);
    let group: Array<{ index: number; item: Prepared }> = [];
    const flush = async () => {
      if (!group.length) return;
      const pending = group;
      group = [];
      const results = await this.commitFrequent(pending.map((g) => g.item));
      pending.forEach((g, i) => (outcomes[g.index] = results[i]!));
    };
    for (const [index, { gatewayId, payload }] of items.entries()) {
      const receivedAt = this.deps.clock();
      const gateway = await this.gatewayOf(gatewayId, receivedAt);
      if (!gateway || gateway.revoked_at !== null) {
        // The broker already refuses revoked credentials; this covers an external broker's ACL gaps.
        this.deps.logger.warn({ gatewayId }, 'event rejected: unknown or revoked gateway');
        outcomes[index] = { result: 'rejected', gatewayId, code: 'unknown_gateway' };
        continue;
      }
      const parsed = parseEvent(payload, MAX_PAYLOAD_BYTES);
      if (!parsed.ok) {
        outcomes[index] = await this.reject(gateway, parsed.code, parsed.message, parsed.id);
        continue;
      }
      const event = parsed.value;
      const item: Prepared = { gateway, type: event.type, data: event.data, receivedAt, record: { id: event.id, gateway_id: gatewayId, type: event.type, at: Date.parse(event.at), received_at: receivedAt } };
      if (event.type === 'session.started' || event.type === 'session.ended') {
        await flush();
        outcomes[index] = await this.handleSessionEvent(item);
      } else {
        group.push({ index, item });
      }
    }
    await flush();
    return outcomes;
  }

  /**
   * Session lifecycle runs the session repository's own transactions: idempotent effect, then the
   * id. The event follows the effect's commit at once, so it is emitted even if recording the id
   * fails (a redelivery then finds the session and emits nothing again).
   */
  private async handleSessionEvent(item: Prepared): Promise<IngestOutcome> {
    const { record } = item;
    if (await this.store.gateways.isIngested(record.id)) return this.duplicate(item);
    // Read afresh, not from the cache: the checks use the skew the latest heartbeat measured.
    const gateway = (await this.store.gateways.get(item.gateway.id)) ?? item.gateway;
    let fact: SessionFact;
    try {
      fact = await this.applySession(gateway, item.type as 'session.started' | 'session.ended', item.data, item.receivedAt);
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      // Semantically refused events are recorded too: a redelivery must not be refused (and logged) again.
      await this.store.gateways.recordIngested(record);
      return this.reject(gateway, err.code, err.message, record.id);
    }
    if (fact) this.deps.events.emit(fact.event, fact.session);
    await this.store.gateways.recordIngested(record);
    return { result: 'applied', gatewayId: gateway.id, type: item.type, id: record.id };
  }

  /** The frequent events: ids and effects commit together in one transaction. */
  private async commitFrequent(items: Prepared[]): Promise<IngestOutcome[]> {
    const after: Array<() => void> = [];
    const refused: Array<{ index: number; item: Prepared; err: Rejection }> = [];
    const outcomes = await this.store.transaction(async (tx) => {
      const out: Array<IngestOutcome | null> = [];
      for (const [index, item] of items.entries()) {
        if (!(await tx.gateways.recordIngested(item.record))) {
          out.push(this.duplicate(item));
          continue;
        }
        try {
          await this.applyFrequent(tx, item, after);
          out.push({ result: 'applied', gatewayId: item.gateway.id, type: item.type, id: item.record.id });
        } catch (err) {
          // The checks run before any write but the id's: the id stays recorded, nothing else.
          if (!(err instanceof Rejection)) throw err;
          refused.push({ index, item, err });
          out.push(null);
        }
      }
      return out;
    });
    for (const fn of after) fn();
    for (const r of refused) outcomes[r.index] = await this.reject(r.item.gateway, r.err.code, r.err.message, r.item.record.id);
    return outcomes as IngestOutcome[];
  }

  private duplicate(item: Prepared): IngestOutcome {
    this.deps.logger.debug({ gatewayId: item.gateway.id, eventId: item.record.id, type: item.type }, 'repeated event ignored');
    return { result: 'duplicate', gatewayId: item.gateway.id, type: item.type, id: item.record.id };
  }

  /**
   * Gateway rows are read on every event, cached for GATEWAY_CACHE_MS; a revocation drops the entry
   * at once through `forget` (the embedded broker disconnects a revoked gateway at once anyway).
   */
  private async gatewayOf(gatewayId: string, now: number): Promise<Gateway | undefined> {
    const hit = this.gateways.get(gatewayId);
    if (hit && now - hit.at < GATEWAY_CACHE_MS) return hit.gateway;
    const gateway = await this.store.gateways.get(gatewayId);
    if (this.gateways.size > 10_000) this.gateways.clear();
    if (gateway) this.gateways.set(gatewayId, { gateway, at: now });
    return gateway;
  }

  private async reject(gateway: Gateway, code: string, message: string, eventId?: string): Promise<IngestOutcome> {
    this.deps.logger.warn({ gatewayId: gateway.id, eventId, code, detail: message.slice(0, 300) }, 'gateway event rejected');
    await this.store.gateways.recordRejection(gateway.id, `${code}: ${message}`);
    return { result: 'rejected', gatewayId: gateway.id, code, ...(eventId ? { id: eventId } : {}) };
  }

  private applySession(gateway: Gateway, type: 'session.started' | 'session.ended', data: unknown, receivedAt: number): Promise<SessionFact> {
    return type === 'session.started'
      ? this.sessionStarted(gateway, data as EventData<'session.started'>, receivedAt)
      : this.sessionEnded(gateway, data as EventData<'session.ended'>, receivedAt);
  }

  private async applyFrequent(tx: Repositories, item: Prepared, after: Array<() => void>): Promise<void> {
    const { gateway, type, data, receivedAt } = item;
    switch (type) {
      case 'token.rotated':
        return this.tokenRotated(tx, gateway, data as EventData<'token.rotated'>);
      case 'heartbeat':
        return applyHeartbeat(tx.gateways, gateway, data as EventData<'heartbeat'>, receivedAt);
      case 'command.result':
        return this.commandResult(tx, gateway, data as EventData<'command.result'>, receivedAt, after);
      case 'checkin.received':
        return this.checkinReceived(tx, item, after);
      default:
        throw new Rejection('unknown_type', `unexpected type ${type}`);
    }
  }

  private async roomOf(gateway: Gateway): Promise<Room> {
    const room = await this.store.rooms.get(gateway.room_id);
    if (!room) throw new Error(`gateway ${gateway.id} names no room`);
    return room;
  }

  /** The session an event names, refused unless it is known and belongs to the gateway's room. */
  private async sessionInRoom(repos: Repositories, gateway: Gateway, sessionId: string): Promise<Session> {
    const session = await repos.sessions.get(sessionId);
    if (!session) throw new Rejection('unknown_session', `session ${sessionId} is not known to the cloud`);
    if (session.room_id !== gateway.room_id) throw new Rejection('wrong_room', `session ${sessionId} belongs to another room`);
    return session;
  }

  /**
   * A session the cloud started through the hub is known already (the gateway reports it is on
   * air). Any other is recorded with the gateway's id only when it is what the room's timetable
   * has the gateway start, at a time near the cloud's clock (gateway-session-checks.ts).
   */
  private async sessionStarted(gateway: Gateway, d: EventData<'session.started'>, receivedAt: number): Promise<SessionFact> {
    const room = await this.roomOf(gateway);
    if (d.room_code !== room.room_code) throw new Rejection('wrong_room', `room code ${d.room_code} is not this gateway's room`);
    const existing = await this.store.sessions.get(d.session_id);
    if (existing) {
      if (existing.room_id !== room.id) throw new Rejection('wrong_room', `session ${d.session_id} belongs to another room`);
      return null;
    }
    if (d.source === 'cloud') throw new Rejection('unknown_session', `session ${d.session_id} was not started by the cloud`);
    if (!d.course_id) throw new Rejection('course_required', 'a session without a course cannot be recorded');
    const course = await this.store.courses.get(d.course_id);
    if (!course) throw new Rejection('unknown_course', `course ${d.course_id} does not exist`);
    const claim = { courseId: course.id, startedAt: Date.parse(d.started_at), endsAt: d.ends_at ? Date.parse(d.ends_at) : null };
    const startedAt = accepted(checkGatewayStart(claim, gateway, await this.store.timetable.ofRoom(room.id), receivedAt, this.sessionChecks));
    try {
      const session = await this.store.sessions.start({ id: d.session_id, course, room, periodS: d.period_s, startedAt, source: d.source, startedBy: null });
      this.deps.logger.info({ gatewayId: gateway.id, sessionId: session.id, source: session.source }, 'session started by the gateway');
      return { event: 'session.started', session };
    } catch (e) {
      if (e instanceof RoomBusyError) throw new Rejection('room_busy', `the room already has live session ${e.sessionId}`);
      throw e;
    }
  }

  private async sessionEnded(gateway: Gateway, d: EventData<'session.ended'>, receivedAt: number): Promise<SessionFact> {
    const session = await this.sessionInRoom(this.store, gateway, d.session_id);
    if (session.state !== 'live') return null; // ended in the cloud first (teacher), or a repeat
    const course = await this.store.courses.get(session.course_id);
    if (!course) throw new Error(`session ${session.id} names no course`);
    const endedAt = accepted(checkGatewayEnd(Date.parse(d.ended_at), session, gateway, receivedAt, this.sessionChecks));
    const ended = await this.store.sessions.end({ session, course, endedAt, actorId: null, verifiedLookup: this.deps.verifiedLookup });
    if (!ended) return null; // ended in the cloud meanwhile
    this.deps.logger.info({ gatewayId: gateway.id, sessionId: session.id, reason: d.reason }, 'session ended by the gateway');
    return { event: 'session.ended', session: ended };
  }

  /** Checked and deduplicated like every event; nothing else is stored (the gateway records what it advertised itself). */
  private async tokenRotated(tx: Repositories, gateway: Gateway, d: EventData<'token.rotated'>): Promise<void> {
    await this.sessionInRoom(tx, gateway, d.session_id);
  }

  /** A refused check-in is recorded with its reason (cloud/bridge/checkin.ts) and logged after the commit. */
  private async checkinReceived(tx: Repositories, item: Prepared, after: Array<() => void>): Promise<void> {
    const outcome = await applyCheckin(tx, item.gateway, item.data as EventData<'checkin.received'>, { id: item.record.id, at: item.record.at }, item.receivedAt, this.deps.verifiedLookup);
    const fields = { gatewayId: item.gateway.id, eventId: item.record.id, sessionId: outcome.sessionId, w: outcome.w };
    if (!outcome.ok) after.push(() => this.deps.logger.warn({ ...fields, reason: outcome.reason }, 'check-in refused'));
    else {
      after.push(() => this.deps.logger.debug({ ...fields, studentId: outcome.studentId, counted: outcome.counted }, 'check-in witnessed'));
      if (outcome.counted) after.push(() => this.deps.events.emit('checkin.witnessed', { session_id: outcome.sessionId, student_id: outcome.studentId, w: outcome.w }));
    }
  }

  private async commandResult(tx: Repositories, gateway: Gateway, d: EventData<'command.result'>, receivedAt: number, after: Array<() => void>): Promise<void> {
    const cmd = await tx.commands.get(d.command_id);
    if (!cmd) throw new Rejection('unknown_command', `command ${d.command_id} was not sent by the cloud`);
    if (cmd.room_id !== gateway.room_id) throw new Rejection('wrong_room', `command ${d.command_id} was for another room`);
    const settled = await tx.commands.recordResult({ commandId: d.command_id, ok: d.ok, ...(d.error ? { error: d.error } : {}), now: receivedAt });
    if (settled) after.push(() => this.deps.events.emit('command.settled', { command_id: settled.id }));
  }
}
