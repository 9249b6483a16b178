/** The gateway's state in one SQLite file: repositories sharing one connection and its transactions. */
import { gatewayTopics } from '../../shared/mqtt/topics.js';
import type { GatewayEvents } from '../events.js';
import { AdvertisedWindowRepo } from './advertised-windows.js';
import { CheckinKeyRepo } from './checkin-keys.js';
import { KvRepo } from './kv.js';
import { openDatabase, type Db, type OpenOptions } from './open.js';
import { Outbox } from './outbox.js';
import { ProcessedCommandRepo } from './processed-commands.js';
import { SessionRepo } from './sessions.js';

/** What a transaction's body may use besides the repositories. */
export interface Tx {
  /**
   * Runs `cb` after the transaction commits (the outermost one, when nested), never if it rolls
   * back: how a change announces itself on the event bus only once it is true. Callbacks run in
   * the order registered; one registered twice in a transaction runs once.
   */
  afterCommit(cb: () => void): void;
}

export interface StoreOptions extends OpenOptions {
  /** Where the store announces what its commits made true (the outbox growing). */
  events?: GatewayEvents;
}

export class GatewayStore {
  readonly sessions: SessionRepo;
  readonly advertisedWindows: AdvertisedWindowRepo;
  readonly outbox: Outbox;
  readonly commands: ProcessedCommandRepo;
  readonly kv: KvRepo;
  readonly checkinKeys: CheckinKeyRepo;

  /** Callbacks of the running transaction; null outside one. */
  private pending: Set<() => void> | null = null;

  constructor(
    readonly db: Db,
    eventsTopic: string,
    events?: GatewayEvents,
  ) {
    this.sessions = new SessionRepo(db);
    this.advertisedWindows = new AdvertisedWindowRepo(db);
    this.outbox = new Outbox(db, eventsTopic, (cb) => this.afterCommit(cb), () => events?.emit('outbox.appended'));
    this.commands = new ProcessedCommandRepo(db);
    this.kv = new KvRepo(db);
    this.checkinKeys = new CheckinKeyRepo(db);
  }

  /**
   * Runs fn in one transaction: a state change and the events reporting it commit together. Called
   * inside another transaction it is a savepoint: its rollback undoes only its own changes and
   * drops only its own callbacks; the rest wait for the outer commit.
   */
  transaction<T>(fn: (tx: Tx) => T): T {
    const outer = this.pending;
    const mine = new Set<() => void>();
    this.pending = mine;
    let result: T;
    try {
      result = this.db.transaction(() => fn({ afterCommit: (cb) => void mine.add(cb) })).immediate();
    } finally {
      this.pending = outer;
    }
    if (outer) {
      for (const cb of mine) outer.add(cb);
      return result;
    }
    let failure: { err: unknown } | null = null;
    for (const cb of mine) {
      try {
        cb();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
    return result;
  }

  /** For repositories: `cb` waits for the running transaction; outside one, the statement has committed. */
  private afterCommit(cb: () => void): void {
    if (this.pending) this.pending.add(cb);
    else cb();
  }

  /**
   * Deletes history older than `retentionMs`: closed advertised-window rows and processed command ids.
   * The cloud does not need the history (it checks tokens against the room secret and its own
   * clock); it is kept here for operators for 90 days, and the SD card must not fill up over years.
   * Command ids are kept far longer than any broker would redeliver a command.
   */
  prune(nowMs: number, retentionMs = 90 * 24 * 3600 * 1000): { advertisedWindows: number; commands: number } {
    const cutoff = nowMs - retentionMs;
    return this.transaction(() => ({
      advertisedWindows: this.db.prepare('DELETE FROM advertised_windows WHERE advertised_to IS NOT NULL AND advertised_to < ?').run(cutoff).changes,
      commands: this.db.prepare('DELETE FROM processed_commands WHERE processed_at < ?').run(cutoff).changes,
    }));
  }

  /** A cheap read that fails when the file became unreadable (disk gone, SD card failing). */
  probe(): void {
    this.db.prepare('SELECT 1').get();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openStore(path: string, gatewayId: string, topicPrefix: string, opts: StoreOptions = {}): GatewayStore {
  return new GatewayStore(openDatabase(path, opts), gatewayTopics(gatewayId, topicPrefix).events, opts.events);
}
