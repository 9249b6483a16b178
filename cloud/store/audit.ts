/** Append-only audit log of privileged changes (overrides, provisioning, role grants). */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

export async function audit(
  db: Kysely<Database> | Transaction<Database>,
  entry: { at: number; actorId: string | null; action: string; target: string; details?: Record<string, unknown> },
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ at: entry.at, actor_id: entry.actorId, action: entry.action, target: entry.target, details: JSON.stringify(entry.details ?? {}) })
    .execute();
}
