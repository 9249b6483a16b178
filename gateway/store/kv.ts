/** Small key-value state: runtime config overrides, timetable, radio state, last sync. JSON values. */
import type { Db } from './open.js';

export class KvRepo {
  private readonly getStmt;
  private readonly setStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
    this.setStmt = db.prepare<[string, string]>('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  }

  get<T>(key: string): T | undefined {
    const row = this.getStmt.get(key);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.setStmt.run(key, JSON.stringify(value));
  }
}

/** Keys used in kv, in one place so `status` and the daemon agree. */
export const KV = {
  runtimeConfig: 'runtime_config',
  timetable: 'timetable',
  timetableRuns: 'timetable_runs',
  /** The daemon's GatewayStatusSnapshot; the key predates the MQTT state in it. */
  status: 'radio',
  lastSyncAt: 'last_sync_at',
  daemon: 'daemon',
} as const;
