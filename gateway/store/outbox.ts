/**
 * The durable outbox of gateway → cloud events (docs/protocol.md §MQTT): an event is appended in the same
 * transaction as the state change it reports, published in seq order, and deleted only on PUBACK.
 */
import { eventDataSchemas, type EventData, type EventType } from '../../shared/mqtt/messages.js';
import { uuidv7 } from '../../shared/ids.js';
import type { Db } from './open.js';

export interface OutboxMessage {
  seq: number;
  id: string;
  type: string;
  topic: string;
  payload: string;
}

export class Outbox {
  private readonly insertStmt;
  private readonly afterStmt;
  private readonly deleteStmt;
  private readonly depthStmt;
  private readonly dropTypeStmt;

  /** `afterCommit` is the store's transaction hook; `appended` announces new rows once they are committed. */
  constructor(
    db: Db,
    private readonly topic: string,
    private readonly afterCommit: (cb: () => void) => void,
    private readonly appended: () => void,
  ) {
    this.insertStmt = db.prepare<[string, string, string, string, number]>(
      'INSERT INTO outbox (id, type, topic, payload, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.afterStmt = db.prepare<[number, number], OutboxMessage>('SELECT seq, id, type, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.deleteStmt = db.prepare<[number]>('DELETE FROM outbox WHERE seq = ?');
    this.depthStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox');
    this.dropTypeStmt = db.prepare<[string]>('DELETE FROM outbox WHERE type = ?');
  }

  /**
   * Appends an event. Call inside the transaction of the state change it reports. The data is
   * checked against the contract schema here, so a bug shows up in the gateway, not in the cloud.
   */
  append<T extends EventType>(type: T, data: EventData<T>, nowMs: number): string {
    const checked = eventDataSchemas[type].parse(data);
    const id = uuidv7(nowMs);
    const payload = JSON.stringify({ id, type, at: new Date(nowMs).toISOString(), data: checked });
    this.insertStmt.run(id, type, this.topic, payload, nowMs);
    // The same function each time: a transaction appending a thousand rows announces them once.
    this.afterCommit(this.appended);
    return id;
  }

  /** Heartbeats describe the present: an unsent older one is worth nothing once a new one exists. */
  dropUnsent(type: EventType): void {
    this.dropTypeStmt.run(type);
  }

  after(seq: number, limit: number): OutboxMessage[] {
    return this.afterStmt.all(seq, limit);
  }

  delete(seq: number): void {
    this.deleteStmt.run(seq);
  }

  depth(): number {
    return this.depthStmt.get()!.n;
  }
}
