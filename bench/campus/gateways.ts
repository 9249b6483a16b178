/**
 * The campus's gateways, simulated with the mqtt package as docs/protocol.md §MQTT describes the
 * real one: client id gw-<id>, username the gateway id, password its secret, QoS 1, a retained
 * `online` status with an `offline` last will, heartbeats, and the answer to the cloud's commands
 * (`session.start`: `command.result`, `session.started`, then a `token.rotated` per window;
 * `session.end`: `command.result`, `session.ended`). Every event id the broker acknowledged is
 * kept, to compare with what the cloud ingested. Clean sessions: a simulated gateway's commands
 * need not outlive the run in the shared broker.
 */
import { connect, type MqttClient } from 'mqtt';
import { uuidv7 } from '../../shared/ids.js';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { gatewayClientId, gatewayTopics, type GatewayTopics } from '../../shared/mqtt/topics.js';
import { windowIndex } from '../../shared/token.js';
import type { SeededRoom } from './seed.js';
import type { Stats } from './stats.js';

const VERSION = 'campus-bench';

class SimulatedGateway {
  readonly client: MqttClient;
  readonly topics: GatewayTopics;
  private readonly startedAt = Date.now();
  private session: { id: string; periodS: number; w: number } | null = null;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly fleet: GatewayFleet, readonly room: SeededRoom, brokerUrl: string, topicPrefix: string) {
    this.topics = gatewayTopics(room.gatewayId, topicPrefix);
    const offline = JSON.stringify({ state: 'offline', at: new Date().toISOString(), version: VERSION });
    this.client = connect(brokerUrl, { clientId: gatewayClientId(room.gatewayId), username: room.gatewayId, password: room.gatewayPassword, clean: true, protocolVersion: 4, reconnectPeriod: 1000, will: { topic: this.topics.status, payload: Buffer.from(offline), qos: 1, retain: true } });
    this.client.on('message', (_topic, payload) => this.onCommand(payload));
  }

  async ready(heartbeatS: number): Promise<void> {
    if (!this.client.connected) await new Promise((resolve, reject) => (this.client.once('connect', resolve), this.client.once('error', reject)));
    await this.client.subscribeAsync(this.topics.cmd, { qos: 1 });
    await this.client.publishAsync(this.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: VERSION }), { qos: 1, retain: true });
    // Heartbeats at a random phase, as gateways that booted at different times.
    const first = setTimeout(() => {
      this.heartbeat();
      this.timers.push(setInterval(() => this.heartbeat(), heartbeatS * 1000));
    }, Math.random() * heartbeatS * 1000);
    this.timers.push(first);
  }

  private heartbeat(): void {
    const at = new Date().toISOString();
    void this.publish('heartbeat', { uptime_s: (Date.now() - this.startedAt) / 1000, clock: at, radio: 'poweredOn', outbox_depth: 0, memory_rss: 40_000_000, version: VERSION, session_id: this.session?.id ?? null });
  }

  /** Publishes an event; resolves when the broker acknowledged it (then it counts as sent). */
  publish(type: string, data: unknown): Promise<void> {
    const sent = this.send(type, data);
    this.fleet.pending.add(sent);
    return sent.finally(() => this.fleet.pending.delete(sent));
  }

  private async send(type: string, data: unknown): Promise<void> {
    const id = uuidv7();
    const t0 = performance.now();
    try {
      await this.client.publishAsync(this.topics.events, JSON.stringify({ id, type, at: new Date().toISOString(), data }), { qos: 1 });
      this.fleet.acked.set(id, type);
      this.fleet.stats.record(`mqtt ${type}`, performance.now() - t0, 'puback');
    } catch {
      this.fleet.stats.record(`mqtt ${type}`, performance.now() - t0, 'not acknowledged');
    }
  }

  private onCommand(payload: Buffer): void {
    const parsed = parseCommand(payload);
    if (!parsed.ok) return;
    const cmd = parsed.value;
    void this.publish('command.result', { command_id: cmd.id, ok: true });
    const now = new Date().toISOString();
    if (cmd.type === 'session.start') {
      const d = cmd.data as { session_id: string; course_id: string | null; period_s: number };
      this.session = { id: d.session_id, periodS: d.period_s, w: windowIndex(Date.now(), d.period_s) };
      void this.publish('session.started', { session_id: d.session_id, room_code: this.room.code, course_id: d.course_id, period_s: d.period_s, started_at: now, source: 'cloud' });
      void this.publish('token.rotated', { session_id: d.session_id, w: this.session.w, advertised_at: now });
    } else if (cmd.type === 'session.end') {
      const d = cmd.data as { session_id: string };
      if (this.session?.id === d.session_id) this.session = null;
      void this.publish('session.ended', { session_id: d.session_id, ended_at: now, reason: 'command' });
    }
  }

  /** A token rotation when the window changed, as the gateway's rotation timer does. */
  rotate(): void {
    if (!this.session) return;
    const w = windowIndex(Date.now(), this.session.periodS);
    if (w === this.session.w) return;
    this.session.w = w;
    void this.publish('token.rotated', { session_id: this.session.id, w, advertised_at: new Date().toISOString() });
  }

  stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  async close(): Promise<void> {
    this.stopTimers();
    // Leaves no retained status behind in the shared broker.
    await this.client.publishAsync(this.topics.status, '', { qos: 1, retain: true }).catch(() => undefined);
    await this.client.endAsync();
  }
}

export class GatewayFleet {
  /** Event ids the broker acknowledged, with their types. */
  readonly acked = new Map<string, string>();
  /** Publishes not yet acknowledged (or failed). */
  readonly pending = new Set<Promise<void>>();
  private readonly gateways: SimulatedGateway[];
  private rotation: NodeJS.Timeout | null = null;

  constructor(readonly stats: Stats, rooms: SeededRoom[], brokerUrl: string, topicPrefix: string) {
    this.gateways = rooms.map((r) => new SimulatedGateway(this, r, brokerUrl, topicPrefix));
  }

  async connect(heartbeatS: number): Promise<void> {
    // In batches: a campus's gateways do not all CONNECT in the same millisecond either.
    for (let i = 0; i < this.gateways.length; i += 200) await Promise.all(this.gateways.slice(i, i + 200).map((g) => g.ready(heartbeatS)));
    this.rotation = setInterval(() => this.gateways.forEach((g) => g.rotate()), 1000);
  }

  /** Stops heartbeats and rotations and waits for what is in flight: then `acked` is final. */
  async quiesce(): Promise<void> {
    if (this.rotation) clearInterval(this.rotation);
    for (const g of this.gateways) g.stopTimers();
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    await this.quiesce();
    await Promise.all(this.gateways.map((g) => g.close()));
  }
}
