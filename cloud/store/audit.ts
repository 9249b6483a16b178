/** Append-only audit log of privileged changes (overrides, provisioning, role grants), and its reading by admins. */
import type { Queryable } from './repositories.js';

export interface AuditEntry {
  at: number;
  actorId: string | null;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

/** What an admin can narrow the log to: every field present must match; `from` inclusive, `to` exclusive (ms). */
export interface AuditFilter {
  action?: string;
  actorId?: string;
  target?: string;
  from?: number;
  to?: number;
  /** Only entries older than this entry id (the previous page's cursor). */
  before?: number;
  limit: number;
}

/** One entry as read back, with the actor's e-mail and name while the account exists. */
export interface AuditRecord {
  id: number;
  at: number;
  actor: { id: string; email: string | null; full_name: string | null } | null;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { value: text };
  }
}

export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ at: entry.at, actor_id: entry.actorId, action: entry.action, target: entry.target, details: JSON.stringify(entry.details ?? {}) })
      .execute();
  }

  /**
   * A page of entries, newest first (by id: the order they were written), and the cursor of the
   * next page (the last entry's id) when there are more.
   */
  async list(filter: AuditFilter): Promise<{ items: AuditRecord[]; next: number | null }> {
    let q = this.db.selectFrom('audit_log as a').leftJoin('users as u', 'u.id', 'a.actor_id')
      .select(['a.id', 'a.at', 'a.actor_id', 'a.action', 'a.target', 'a.details', 'u.email', 'u.full_name']);
    if (filter.action !== undefined) q = q.where('a.action', '=', filter.action);
    if (filter.actorId !== undefined) q = q.where('a.actor_id', '=', filter.actorId);
    if (filter.target !== undefined) q = q.where('a.target', '=', filter.target);
    if (filter.from !== undefined) q = q.where('a.at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('a.at', '<', filter.to);
    if (filter.before !== undefined) q = q.where('a.id', '<', filter.before);
    const rows = await q.orderBy('a.id', 'desc').limit(filter.limit + 1).execute();
    const items = rows.slice(0, filter.limit).map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      actor: r.actor_id === null ? null : { id: r.actor_id, email: r.email ?? null, full_name: r.full_name ?? null },
      action: r.action,
      target: r.target,
      details: parseDetails(r.details),
    }));
    return { items, next: rows.length > filter.limit ? items[items.length - 1]!.id : null };
  }

  /** The actions recorded so far, for the filter's choices. */
  async actions(): Promise<string[]> {
    const rows = await this.db.selectFrom('audit_log').select('action').distinct().orderBy('action').execute();
    return rows.map((r) => r.action);
  }
}
