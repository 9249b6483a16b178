/**
 * The cloud-side command table: the cloud's outbox for cloud → gateway commands
 * (docs/operations.md, "Events and commands"). A command stays 'pending' until the gateway's
 * `command.result` arrives, and pending commands are published again whenever the room's gateway
 * comes online, so a command outlives broker and cloud restarts. The gateway applies each
 * command id once, so re-sending is harmless.
 */
import { sql } from 'kysely';
import { uuidv7 } from '../../shared/ids.js';
import type { CommandData, CommandType } from '../../shared/mqtt/messages.js';
import { unitOfWork, type Queryable } from './repositories.js';
import type { GatewayCommand } from './schema.js';

export interface NewCommand<T extends CommandType = CommandType> {
  id?: string;
  roomId: string;
  type: T;
  data: CommandData<T>;
  sessionId?: string | null;
  now: number;
}

export interface CommandResult {
  commandId: string;
  ok: boolean;
  error?: { code: string; message: string };
  now: number;
}

export class GatewayCommandRepository {
  constructor(private readonly db: Queryable) {}

  get(id: string): Promise<GatewayCommand | undefined> {
    return this.db.selectFrom('gateway_commands').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async enqueue(c: NewCommand): Promise<GatewayCommand> {
    const row: Omit<GatewayCommand, 'seq'> = {
      id: c.id ?? uuidv7(c.now), room_id: c.roomId, type: c.type, data: JSON.stringify(c.data), session_id: c.sessionId ?? null, state: 'pending',
      created_at: c.now, sent_at: null, sent_to: null, attempts: 0, result_at: null, error_code: null, error_message: null,
    };
    // seq = max + 1 inside the INSERT itself, so two concurrent enqueues cannot read the same max.
    await this.db.insertInto('gateway_commands')
      .values((eb) => ({ ...row, seq: eb.selectFrom('gateway_commands').select(sql<number>`coalesce(max(seq), 0) + 1`.as('next')) }))
      .execute();
    const { seq } = await this.db.selectFrom('gateway_commands').select('seq').where('id', '=', row.id).executeTakeFirstOrThrow();
    return { ...row, seq: Number(seq) };
  }

  /**
   * Queues a command of a type only the newest of which matters (timetable.set): older pending
   * ones of the room are cancelled as superseded in the same transaction.
   */
  enqueueSuperseding(c: NewCommand): Promise<GatewayCommand> {
    return unitOfWork(this.db, async (tx) => {
      await tx.commands.cancelPending(c.roomId, c.type, c.now);
      return tx.commands.enqueue(c);
    });
  }

  /** The room's pending commands in publication order. */
  pending(roomId: string): Promise<GatewayCommand[]> {
    return this.db.selectFrom('gateway_commands').selectAll().where('room_id', '=', roomId).where('state', '=', 'pending').orderBy('seq').execute();
  }

  /** Rooms that have at least one pending command. */
  async roomsWithPending(): Promise<string[]> {
    const rows = await this.db.selectFrom('gateway_commands').select('room_id').distinct().where('state', '=', 'pending').execute();
    return rows.map((r) => r.room_id);
  }

  async pendingCountsByRoom(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('gateway_commands').select(['room_id', (eb) => eb.fn.countAll<number>().as('n')]).where('state', '=', 'pending').groupBy('room_id').execute();
    return new Map(rows.map((r) => [r.room_id, Number(r.n)]));
  }

  async markSent(id: string, gatewayId: string, now: number): Promise<void> {
    await this.db.updateTable('gateway_commands').set((eb) => ({ sent_at: now, sent_to: gatewayId, attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute();
  }

  /** Records a command.result. Returns the command, or undefined for an id the cloud never sent. */
  async recordResult(r: CommandResult): Promise<GatewayCommand | undefined> {
    const cmd = await this.get(r.commandId);
    if (!cmd) return undefined;
    if (cmd.state !== 'pending') return cmd; // a repeated result (the gateway re-answers resent commands)
    const patch = { state: r.ok ? ('confirmed' as const) : ('failed' as const), result_at: r.now, error_code: r.error?.code ?? null, error_message: r.error?.message.slice(0, 500) ?? null };
    await this.db.updateTable('gateway_commands').set(patch).where('id', '=', cmd.id).where('state', '=', 'pending').execute();
    return { ...cmd, ...patch };
  }

  /** Supersedes older pending commands of a type that only the newest matters for (timetable.set). */
  async cancelPending(roomId: string, type: CommandType, now: number): Promise<number> {
    const res = await this.db.updateTable('gateway_commands').set({ state: 'cancelled', result_at: now, error_code: 'superseded' })
      .where('room_id', '=', roomId).where('type', '=', type).where('state', '=', 'pending').executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Cancels a session's pending command that was never published; returns it, or null when it was sent. */
  async withdrawUnsent(sessionId: string, type: CommandType, now: number): Promise<GatewayCommand | null> {
    const cmd = await this.forSession(sessionId, type);
    if (!cmd || cmd.state !== 'pending' || cmd.sent_at !== null) return null;
    const res = await this.db.updateTable('gateway_commands').set({ state: 'cancelled', result_at: now, error_code: 'withdrawn' })
      .where('id', '=', cmd.id).where('state', '=', 'pending').where('sent_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1 ? { ...cmd, state: 'cancelled', result_at: now, error_code: 'withdrawn' } : null;
  }

  /**
   * Deletes commands settled (confirmed, failed, cancelled) before `before`. Only pending commands
   * are ever published again, so a settled one is history; a late repeated result for a deleted
   * command finds no row and is ignored, as for any unknown id. Returns how many were deleted.
   */
  async purgeSettledBefore(before: number): Promise<number> {
    const res = await this.db.deleteFrom('gateway_commands').where('state', '<>', 'pending').where('result_at', '<', before).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** The session's newest command of a type. */
  forSession(sessionId: string, type: CommandType): Promise<GatewayCommand | undefined> {
    return this.db.selectFrom('gateway_commands').selectAll().where('session_id', '=', sessionId).where('type', '=', type).orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }
}
