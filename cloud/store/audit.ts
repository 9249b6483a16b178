/** Append-only audit log of privileged changes (overrides, provisioning, role grants). */
import type { Queryable } from './repositories.js';

export interface AuditEntry {
  at: number;
  actorId: string | null;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ at: entry.at, actor_id: entry.actorId, action: entry.action, target: entry.target, details: JSON.stringify(entry.details ?? {}) })
      .execute();
  }
}
