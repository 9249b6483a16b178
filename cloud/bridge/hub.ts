/**
 * The cloud's side of the gateway link: reacts to sessions started and ended in the cloud by
 * queuing `session.start` / `session.end` for the room's gateway, publishes pending commands
 * whenever the gateway (or the cloud's own link) comes online, tracks `command.result`, and
 * answers "did the room's gateway confirm?" for the session routes.
 */
import type { Logger } from 'pino';
import { uuidv7 } from '../../shared/ids.js';
import { parseStatus, type CommandData, type CommandType } from '../../shared/mqtt/messages.js';
import { gatewayTopics } from '../../shared/mqtt/topics.js';
import type { CloudEvents } from '../events.js';
import type { Database, Session } from '../store/schema.js';
import type { Kysely } from 'kysely';
import { cancelPending, commandEnvelope, enqueueCommand, markSent, pendingCommands, withdrawUnsent } from './command-store.js';
import { activeGatewayForRoom, getGateway, setGatewayState } from './gateway-store.js';
import { gatewayDb, type BridgeDb, type GatewayCommand } from './tables.js';
import { timetableFor } from './timetable.js';

export type SessionCommand = 'session.start' | 'session.end';

export interface GatewayAck {
  /**
   * confirmed/failed: the gateway answered; pending: online but no answer yet; queued: offline,
   * delivered when it reconnects; cancelled: an end whose start never left the cloud (nothing to
   * end on the gateway); no_gateway: the room has none.
   */
  state: 'confirmed' | 'failed' | 'pending' | 'queued' | 'cancelled' | 'no_gateway';
  gateway_id: string | null;
  command_id: string | null;
  error?: { code: string; message: string };
}

/** What the HTTP routes use (AppDeps.gateways). */
export interface GatewayHub {
  sessionAck(sessionId: string, command: SessionCommand): Promise<GatewayAck>;
  /** Queues a command for a room's gateway and publishes it if the gateway is reachable. */
  send<T extends CommandType>(roomId: string, type: T, data: CommandData<T>, sessionId?: string | null): Promise<GatewayCommand>;
  /** Queues the room's current timetable (superseding an unsent older one). */
  pushTimetable(roomId: string): Promise<GatewayCommand>;
  /** Drops a revoked gateway's live connection (embedded broker only). */
  disconnect(gatewayId: string): boolean;
  /** The broker URL and topic prefix a gateway provisioned through `requestHost` should use. */
  mqttEndpoint(requestHost: string): { url: string; topicPrefix: string };
}

export interface Publisher {
  readonly connected: boolean;
  publish(topic: string, payload: string): Promise<void>;
}

export interface HubDeps {
  db: Kysely<Database>;
  events: CloudEvents;
  clock: () => number;
  logger: Logger;
  topicPrefix: string;
  timezone: string;
  publisher: Publisher | null;
  disconnect?: (gatewayId: string) => boolean;
  publicMqttUrl: (requestHost: string) => string;
  /** How long a session route waits for the gateway's confirmation (ms). */
  ackTimeoutMs?: number;
  onPublished?: (type: string) => void;
}

interface Waiter {
  commandId: string;
  /** Settles once the command is stored and a publish was attempted (null: the room has no gateway). */
  queued: Promise<GatewayCommand | null>;
  /** Settles with the command when its result arrives. */
  answered: Promise<GatewayCommand>;
  answer: (cmd: GatewayCommand) => void;
}

export class BridgeHub implements GatewayHub {
  private readonly db: BridgeDb;
  private readonly waiters = new Map<string, Waiter>();
  /** Sessions the gateway ended itself: no session.end goes back to it. */
  private readonly endedByGateway = new Set<string>();
  private readonly flushing = new Map<string, Promise<void>>();
  private unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: HubDeps) {
    this.db = gatewayDb(deps.db);
  }

  start(): void {
    const log = this.deps.logger;
    this.unsubscribe = [
      this.deps.events.safeOn('session.started', log, (s) => this.onSession(s, 'session.start')),
      this.deps.events.safeOn('session.ended', log, (s) => this.onSession(s, 'session.end')),
    ];
  }

  stop(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  sessionEndedByGateway(sessionId: string): void {
    this.endedByGateway.add(sessionId);
  }

  private key(sessionId: string, command: SessionCommand): string {
    return `${command}|${sessionId}`;
  }

  /** Registers the waiter synchronously, so it exists before `emit` returns to the route. */
  private onSession(session: Session, type: SessionCommand): void {
    if (type === 'session.start' && session.source !== 'cloud') return; // the gateway started it itself
    if (type === 'session.end' && this.endedByGateway.delete(session.id)) return;
    const commandId = uuidv7(this.deps.clock());
    const key = this.key(session.id, type);
    let answer!: (cmd: GatewayCommand) => void;
    const answered = new Promise<GatewayCommand>((r) => (answer = r));
    const queued = this.queueSessionCommand(session, type, commandId);
    this.waiters.set(key, { commandId, queued, answered, answer });
    setTimeout(() => this.waiters.get(key)?.commandId === commandId && this.waiters.delete(key), 120_000).unref();
    queued.catch((err: unknown) => this.deps.logger.error({ err, sessionId: session.id, type }, 'could not queue the session command'));
  }

  private async queueSessionCommand(session: Session, type: SessionCommand, commandId: string): Promise<GatewayCommand | null> {
    if (!(await activeGatewayForRoom(this.db, session.room_id))) return null; // a room without gateway: the teacher phone advertises
    if (type === 'session.end') {
      // The gateway never got the start (offline all along): withdraw it instead of sending a
      // start and an end that would put a dead session on air for an instant when it returns.
      const withdrawn = await withdrawUnsent(this.db, session.id, 'session.start', this.deps.clock());
      if (withdrawn) return withdrawn;
    }
    const data = type === 'session.start'
      ? { session_id: session.id, course_id: session.course_id, period_s: session.period_s, ends_at: null }
      : { session_id: session.id };
    return this.send(session.room_id, type, data, session.id, commandId);
  }

  async send<T extends CommandType>(roomId: string, type: T, data: CommandData<T>, sessionId: string | null = null, id?: string): Promise<GatewayCommand> {
    const cmd = await enqueueCommand(this.db, { ...(id ? { id } : {}), roomId, type, data, sessionId, now: this.deps.clock() });
    this.deps.logger.info({ commandId: cmd.id, type, roomId }, 'command queued for the room gateway');
    await this.flushRoom(roomId);
    return cmd;
  }

  async pushTimetable(roomId: string): Promise<GatewayCommand> {
    const timetable = await timetableFor(this.db, roomId, this.deps.timezone);
    await cancelPending(this.db, roomId, 'timetable.set', this.deps.clock());
    return this.send(roomId, 'timetable.set', timetable);
  }

  /** Publishes the room's pending commands in order, one flush per room at a time. */
  flushRoom(roomId: string): Promise<void> {
    const previous = this.flushing.get(roomId) ?? Promise.resolve();
    const next = previous.then(() => this.publishPending(roomId)).catch((err: unknown) => this.deps.logger.error({ err, roomId }, 'publishing commands failed'));
    this.flushing.set(roomId, next);
    void next.then(() => this.flushing.get(roomId) === next && this.flushing.delete(roomId));
    return next;
  }

  private async publishPending(roomId: string): Promise<void> {
    const publisher = this.deps.publisher;
    if (!publisher?.connected) return;
    const gateway = await activeGatewayForRoom(this.db, roomId);
    // Without a live gateway the commands wait here; on an embedded broker the gateway's
    // persistent session would also queue them, but the table is what survives restarts.
    if (!gateway || gateway.state !== 'online') return;
    const topic = gatewayTopics(gateway.id, this.deps.topicPrefix).cmd;
    for (const cmd of await pendingCommands(this.db, roomId)) {
      // Already published while the gateway has been online this time: it sits in the gateway's
      // persistent session (QoS 1) or was delivered. The next `online` status re-sends it.
      if (cmd.sent_to === gateway.id && cmd.sent_at !== null && gateway.online_since !== null && cmd.sent_at >= gateway.online_since) continue;
      try {
        await publisher.publish(topic, commandEnvelope(cmd));
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message, commandId: cmd.id }, 'command not published; it stays pending');
        return;
      }
      await markSent(this.db, cmd.id, gateway.id, this.deps.clock());
      this.deps.onPublished?.(cmd.type);
    }
  }

  /** After the cloud's own link (re)connected: every room with pending commands gets them. */
  async flushAll(): Promise<void> {
    const rooms = await this.db.selectFrom('gateway_commands').select('room_id').distinct().where('state', '=', 'pending').execute();
    await Promise.all(rooms.map((r) => this.flushRoom(r.room_id)));
  }

  /** Retained `status` messages (docs/protocol.md §MQTT): online after CONNECT, offline from the will. */
  async onStatus(gatewayId: string, payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // a cleared retained message
    const parsed = parseStatus(payload);
    const gateway = await getGateway(this.db, gatewayId);
    if (!gateway || gateway.revoked_at !== null) return;
    if (!parsed.ok) {
      this.deps.logger.warn({ gatewayId, code: parsed.code }, 'gateway status rejected');
      return;
    }
    await setGatewayState(this.db, gatewayId, parsed.value.state, this.deps.clock(), parsed.value.version);
    this.deps.logger.info({ gatewayId, state: parsed.value.state, version: parsed.value.version }, 'gateway status');
    // Not awaited: this runs inside the link's message handler, which holds back the incoming
    // stream (and with it the PUBACKs the flush waits for) until it returns.
    if (parsed.value.state === 'online') void this.flushRoom(gateway.room_id);
  }

  onCommandResult(cmd: GatewayCommand): void {
    if (!cmd.session_id) return;
    const waiter = this.waiters.get(this.key(cmd.session_id, cmd.type as SessionCommand));
    if (waiter?.commandId === cmd.id) waiter.answer(cmd);
  }

  async sessionAck(sessionId: string, command: SessionCommand): Promise<GatewayAck> {
    const none: GatewayAck = { state: 'no_gateway', gateway_id: null, command_id: null };
    const waiter = this.waiters.get(this.key(sessionId, command));
    if (!waiter) return none;
    const queued = await waiter.queued.catch(() => null);
    if (!queued) return none;
    const gateway = await activeGatewayForRoom(this.db, queued.room_id);
    const reachable = gateway?.state === 'online' && this.deps.publisher?.connected === true;
    if (reachable) {
      const timeoutMs = this.deps.ackTimeoutMs ?? 2000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
      await Promise.race([waiter.answered, timeout]);
      clearTimeout(timer);
    }
    const row = await this.db.selectFrom('gateway_commands').selectAll().where('id', '=', queued.id).executeTakeFirstOrThrow();
    const base = { gateway_id: gateway?.id ?? null, command_id: row.id };
    if (row.state === 'cancelled') return { state: 'cancelled', ...base };
    if (row.state === 'confirmed') return { state: 'confirmed', ...base };
    if (row.state === 'failed') return { state: 'failed', ...base, error: { code: row.error_code ?? 'failed', message: row.error_message ?? '' } };
    return { state: reachable ? 'pending' : 'queued', ...base };
  }

  disconnect(gatewayId: string): boolean {
    return this.deps.disconnect?.(gatewayId) ?? false;
  }

  mqttEndpoint(requestHost: string): { url: string; topicPrefix: string } {
    return { url: this.deps.publicMqttUrl(requestHost), topicPrefix: this.deps.topicPrefix };
  }
}
