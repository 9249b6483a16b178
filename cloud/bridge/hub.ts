/**
 * The cloud's side of the gateway link: queues commands for a room's gateway (session start and
 * end, timetables, pings), publishes pending commands whenever the gateway (or the cloud's own
 * link) comes online, tracks `command.result`, and tells the session service whether the room's
 * gateway confirmed (docs/architecture.md, "Session start and end"). It also keeps the room
 * gateway's copy of the live session's check-in keys current (cloud/bridge/checkin-keys.ts).
 */
import { SerialByKey } from './serial-by-key.js';
import type { Logger } from 'pino';
import { uuidv7 } from '../../shared/ids.js';
import { parseStatus, type CommandData, type CommandType } from '../../shared/mqtt/messages.js';
import { gatewayTopics } from '../../shared/mqtt/topics.js';
import type { CloudEvents } from '../events.js';
import type { Store } from '../store/db.js';
import type { GatewayCommand, Session } from '../store/schema.js';
import { CheckinKeySync } from './checkin-keys.js';
import { queueTimetable } from './timetable.js';

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

export interface Publisher {
  readonly connected: boolean;
  publish(topic: string, payload: string): Promise<void>;
}

export interface HubDeps {
  store: Store;
  clock: () => number;
  logger: Logger;
  topicPrefix: string;
  timezone: string;
  publisher: Publisher | null;
  disconnect?: (gatewayId: string) => boolean;
  publicMqttUrl: (requestHost: string) => string;
  /** How long `sessionCommand` waits for the gateway's confirmation (ms). */
  ackTimeoutMs?: number;
  onPublished?: (type: string) => void;
  /**
   * The domain events: a session a gateway started, and changed enrolments, send the check-in
   * keys again at once. Without them only the cloud's own starts and the periodic check do.
   */
  events?: CloudEvents;
  /** How often the live sessions' check-in keys are compared with what was sent (ms; 0: never). */
  keySyncIntervalMs?: number;
}

/** The periodic check-in key check: a device approved or revoked reaches the gateway within this. */
const KEY_SYNC_INTERVAL_MS = 15_000;

/** The envelope published on the cmd topic (docs/protocol.md §MQTT). */
export function commandEnvelope(cmd: GatewayCommand): string {
  return JSON.stringify({ id: cmd.id, type: cmd.type, at: new Date(cmd.created_at).toISOString(), data: JSON.parse(cmd.data) as unknown });
}

const NO_GATEWAY: GatewayAck = { state: 'no_gateway', gateway_id: null, command_id: null };

/** What the HTTP routes and the session service use (AppDeps.gateways). */
export class GatewayHub {
  /** Commands someone waits on, by command id: settled by their `command.result` or by the wait ending. */
  private readonly waiting = new Map<string, () => void>();
  private readonly flushing = new SerialByKey();
  /** The live sessions' check-in keys on their room gateways. */
  readonly checkinKeys: CheckinKeySync;
  private keyTimer: NodeJS.Timeout | null = null;
  private armed = false;

  constructor(private readonly deps: HubDeps) {
    this.checkinKeys = new CheckinKeySync({ store: deps.store, clock: deps.clock, logger: deps.logger, flushRoom: (roomId) => this.flushRoom(roomId) });
    this.arm();
  }

  /** Releases whoever still waits for an answer; they report the command's state as stored. */
  stop(): void {
    for (const release of [...this.waiting.values()]) release();
    this.disarm();
  }

  /** Listens for what changes a live session's check-in keys, and starts the periodic check; again after stop() once the link is back. */
  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    const { events } = this.deps;
    // The cloud's own starts send their keys after their session.start (sessionCommand), in that order.
    events?.on('session.started', this, (s) => void (s.source !== 'cloud' && this.checkinKeys.sync(s.id)));
    events?.on('enrollment.changed', this, ({ course_id }) => void this.checkinKeys.syncLive(course_id).catch((err: unknown) => this.deps.logger.error({ err }, 'check-in keys not checked')));
    events?.on('device.changed', this, ({ student_id }) => void this.checkinKeys.syncStudent(student_id).catch((err: unknown) => this.deps.logger.error({ err }, 'check-in keys not checked')));
    events?.on('changes.remote', this, (c) => {
      if (c.kind === 'enrolment') void this.checkinKeys.syncLive(c.id).catch((err: unknown) => this.deps.logger.error({ err }, 'check-in keys not checked'));
    });
    const every = this.deps.keySyncIntervalMs ?? KEY_SYNC_INTERVAL_MS;
    if (every > 0) {
      this.keyTimer = setInterval(() => void this.checkinKeys.syncLive().catch((err: unknown) => this.deps.logger.error({ err }, 'check-in keys not checked')), every);
      this.keyTimer.unref();
    }
  }

  private disarm(): void {
    this.armed = false;
    this.deps.events?.off(this);
    if (this.keyTimer) clearInterval(this.keyTimer);
    this.keyTimer = null;
  }

  /**
   * Queues `session.start` / `session.end` for the session's room gateway, publishes it if the
   * gateway is reachable and waits up to `ackTimeoutMs` for its `command.result`. Called after
   * the session change committed. A start goes only for sessions the cloud started (the gateway
   * knows its own); an end whose start never left the cloud withdraws the start instead.
   */
  async sessionCommand(session: Session, type: SessionCommand): Promise<GatewayAck> {
    if (type === 'session.start' && session.source !== 'cloud') return NO_GATEWAY;
    const { store } = this.deps;
    const commandId = uuidv7(this.deps.clock());
    const answered = this.awaitResult(commandId);
    try {
      const cmd = await this.queueSessionCommand(session, type, commandId);
      if (!cmd) return NO_GATEWAY; // a room without gateway: the teacher phone advertises
      if (type === 'session.start' && cmd.id === commandId) await this.checkinKeys.sync(session.id);
      const gateway = await store.gateways.activeForRoom(cmd.room_id);
      const reachable = gateway?.state === 'online' && this.deps.publisher?.connected === true;
      if (reachable && cmd.id === commandId) await answered.within(this.deps.ackTimeoutMs ?? 2000);
      const row = (await store.commands.get(cmd.id)) ?? cmd;
      const base = { gateway_id: gateway?.id ?? null, command_id: row.id };
      if (row.state === 'cancelled') return { state: 'cancelled', ...base };
      if (row.state === 'confirmed') return { state: 'confirmed', ...base };
      if (row.state === 'failed') return { state: 'failed', ...base, error: { code: row.error_code ?? 'failed', message: row.error_message ?? '' } };
      return { state: reachable ? 'pending' : 'queued', ...base };
    } catch (err) {
      // The session itself is committed; the command is what failed to queue.
      this.deps.logger.error({ err, sessionId: session.id, type }, 'could not queue the session command');
      return NO_GATEWAY;
    } finally {
      answered.cancel();
    }
  }

  /** The command to report on: a new one with `commandId`, a withdrawn start, or null without gateway. */
  private async queueSessionCommand(session: Session, type: SessionCommand, commandId: string): Promise<GatewayCommand | null> {
    const { store } = this.deps;
    if (!(await store.gateways.activeForRoom(session.room_id))) return null;
    if (type === 'session.end') {
      // The gateway never got the start (offline all along): withdraw it instead of sending a
      // start and an end that would put a dead session on air for an instant when it returns.
      const withdrawn = await store.commands.withdrawUnsent(session.id, 'session.start', this.deps.clock());
      if (withdrawn) {
        // Its check-in keys never left either: a gateway without the session would refuse them.
        await store.commands.cancelPending(session.room_id, 'checkin_keys.set', this.deps.clock());
        return withdrawn;
      }
    }
    const data = type === 'session.start'
      ? { session_id: session.id, course_id: session.course_id, period_s: session.period_s, ends_at: null }
      : { session_id: session.id };
    return this.send(session.room_id, type, data, session.id, commandId);
  }

  /**
   * A promise of the command's result, registered before the command exists so that an answer
   * arriving before the publish returned is not missed. `cancel` removes it.
   */
  private awaitResult(commandId: string): { within(ms: number): Promise<void>; cancel(): void } {
    let release!: () => void;
    const settled = new Promise<void>((r) => (release = r));
    this.waiting.set(commandId, release);
    let timer: NodeJS.Timeout | undefined;
    return {
      within: (ms) => {
        timer = setTimeout(release, ms);
        return settled;
      },
      cancel: () => {
        clearTimeout(timer);
        this.waiting.delete(commandId);
        release();
      },
    };
  }

  /** Queues a command for a room's gateway and publishes it if the gateway is reachable. */
  async send<T extends CommandType>(roomId: string, type: T, data: CommandData<T>, sessionId: string | null = null, id?: string): Promise<GatewayCommand> {
    const cmd = await this.deps.store.commands.enqueue({ ...(id ? { id } : {}), roomId, type, data, sessionId, now: this.deps.clock() });
    return this.queued(cmd);
  }

  /** Queues the room's current timetable (superseding an unsent older one). */
  async pushTimetable(roomId: string): Promise<GatewayCommand> {
    return this.queued(await queueTimetable(this.deps.store, roomId, this.deps.timezone, this.deps.clock()));
  }

  private async queued(cmd: GatewayCommand): Promise<GatewayCommand> {
    this.deps.logger.info({ commandId: cmd.id, type: cmd.type, roomId: cmd.room_id }, 'command queued for the room gateway');
    await this.flushRoom(cmd.room_id);
    return cmd;
  }

  /** Publishes the room's pending commands in order, one flush per room at a time. */
  flushRoom(roomId: string): Promise<void> {
    return this.flushing.run(roomId, () => this.publishPending(roomId), (err) => this.deps.logger.error({ err, roomId }, 'publishing commands failed'));
  }

  private async publishPending(roomId: string): Promise<void> {
    const { publisher, store } = this.deps;
    if (!publisher?.connected) return;
    const gateway = await store.gateways.activeForRoom(roomId);
    // Without a live gateway the commands wait here; on an embedded broker the gateway's
    // persistent session would also queue them, but the table is what survives restarts.
    if (!gateway || gateway.state !== 'online') return;
    const topic = gatewayTopics(gateway.id, this.deps.topicPrefix).cmd;
    for (const cmd of await store.commands.pending(roomId)) {
      // Already published while the gateway has been online this time: it sits in the gateway's
      // persistent session (QoS 1) or was delivered. The next `online` status re-sends it.
      if (cmd.sent_to === gateway.id && cmd.sent_at !== null && gateway.online_since !== null && cmd.sent_at >= gateway.online_since) continue;
      try {
        await publisher.publish(topic, commandEnvelope(cmd));
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message, commandId: cmd.id }, 'command not published; it stays pending');
        return;
      }
      await store.commands.markSent(cmd.id, gateway.id, this.deps.clock());
      this.deps.onPublished?.(cmd.type);
    }
  }

  /** After the cloud's own link (re)connected: every room with pending commands gets them. */
  async flushAll(): Promise<void> {
    this.arm();
    const rooms = await this.deps.store.commands.roomsWithPending();
    await Promise.all(rooms.map((roomId) => this.flushRoom(roomId)));
  }

  /** Retained `status` messages (docs/protocol.md §MQTT): online after CONNECT, offline from the will. */
  async onStatus(gatewayId: string, payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // a cleared retained message
    const parsed = parseStatus(payload);
    const gateway = await this.deps.store.gateways.get(gatewayId);
    if (!gateway || gateway.revoked_at !== null) return;
    if (!parsed.ok) {
      this.deps.logger.warn({ gatewayId, code: parsed.code }, 'gateway status rejected');
      return;
    }
    await this.deps.store.gateways.setState(gatewayId, parsed.value.state, this.deps.clock(), parsed.value.version, parsed.value.checkin);
    this.deps.logger.info({ gatewayId, state: parsed.value.state, version: parsed.value.version, checkin: parsed.value.checkin === true }, 'gateway status');
    // Not awaited: this runs inside the link's message handler, which holds back the incoming
    // stream (and with it the PUBACKs the flush waits for) until it returns.
    if (parsed.value.state === 'online') void this.flushRoom(gateway.room_id);
    // A gateway that serves the check-in gets the live session's keys if it lacks the newest set.
    if (parsed.value.state === 'online' && parsed.value.checkin === true) void this.checkinKeys.syncRoom(gateway.room_id).catch((err: unknown) => this.deps.logger.error({ err, gatewayId }, 'check-in keys not checked'));
  }

  /**
   * A `command.result` settled a pending command (after its commit), on this instance or another
   * (the change feed): whoever waits on it here is answered.
   */
  commandSettled(commandId: string): void {
    this.waiting.get(commandId)?.();
  }

  /** Drops a revoked gateway's live connection (embedded broker only). */
  disconnect(gatewayId: string): boolean {
    return this.deps.disconnect?.(gatewayId) ?? false;
  }

  /** The broker URL and topic prefix a gateway provisioned through `requestHost` should use. */
  mqttEndpoint(requestHost: string): { url: string; topicPrefix: string } {
    return { url: this.deps.publicMqttUrl(requestHost), topicPrefix: this.deps.topicPrefix };
  }
}
