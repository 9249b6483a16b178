/** The gateway's state in one SQLite file: repositories sharing one connection and its transactions. */
import { gatewayTopics } from '../../shared/mqtt/topics.js';
import { ProcessedCommandRepo } from './commands.js';
import { KvRepo } from './kv.js';
import { openDatabase, type Db, type OpenOptions } from './open.js';
import { Outbox } from './outbox.js';
import { SessionRepo } from './sessions.js';
import { TokenLogRepo } from './token-log.js';

export class GatewayStore {
  readonly sessions: SessionRepo;
  readonly tokenLog: TokenLogRepo;
  readonly outbox: Outbox;
  readonly commands: ProcessedCommandRepo;
  readonly kv: KvRepo;

  constructor(
    readonly db: Db,
    eventsTopic: string,
  ) {
    this.sessions = new SessionRepo(db);
    this.tokenLog = new TokenLogRepo(db);
    this.outbox = new Outbox(db, eventsTopic);
    this.commands = new ProcessedCommandRepo(db);
    this.kv = new KvRepo(db);
  }

  /** Runs fn in one transaction: a state change and the events reporting it commit together. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Deletes history older than `retentionMs`: closed token-log rows and processed command ids.
   * The cloud holds its own copy (token.rotated events); the SD card must not fill up over years.
   * Command ids are kept far longer than any broker would redeliver a command.
   */
  prune(nowMs: number, retentionMs = 90 * 24 * 3600 * 1000): { tokenLog: number; commands: number } {
    const cutoff = nowMs - retentionMs;
    return this.transaction(() => ({
      tokenLog: this.db.prepare('DELETE FROM token_log WHERE advertised_to IS NOT NULL AND advertised_to < ?').run(cutoff).changes,
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

export function openStore(path: string, gatewayId: string, topicPrefix: string, opts: OpenOptions = {}): GatewayStore {
  return new GatewayStore(openDatabase(path, opts), gatewayTopics(gatewayId, topicPrefix).events);
}
