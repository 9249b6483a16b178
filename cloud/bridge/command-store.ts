/**
 * The cloud-side command table: the cloud's outbox for cloud → gateway commands (docs/operations.md).
 * A command stays 'pending' until the gateway's `command.result` arrives, and pending commands
 * are published again whenever the room's gateway comes online, so a command outlives broker
 * and cloud restarts. The gateway applies each command id once, so re-sending is harmless.
 */
import { sql } from 'kysely';
import { uuidv7 } from '../../shared/ids.js';
import type { CommandData, CommandType } from '../../shared/mqtt/messages.js';
import type { BridgeDb, BridgeTx, GatewayCommand } from './tables.js';

export interface NewCommand<T extends CommandType = CommandType> {
  id?: string;
  roomId: string;
  type: T;
  data: CommandData<T>;
  sessionId?: string | null;
  now: number;
}

export async function enqueueCommand(db: BridgeDb | BridgeTx, c: NewCommand): Promise<GatewayCommand> {
  const row: Omit<GatewayCommand, 'seq'> = {
    id: c.id ?? uuidv7(c.now), room_id: c.roomId, type: c.type, data: JSON.stringify(c.data), session_id: c.sessionId ?? null, state: 'pending',
    created_at: c.now, sent_at: null, sent_to: null, attempts: 0, result_at: null, error_code: null, error_message: null,
  };
  // seq = max + 1 inside the INSERT itself, so two concurrent enqueues cannot read the same max.
  await db.insertInto('gateway_commands')
    .values((eb) => ({ ...row, seq: eb.selectFrom('gateway_commands').select(sql<number>`coalesce(max(seq), 0) + 1`.as('next')) }))
    .execute();
  const { seq } = await db.selectFrom('gateway_commands').select('seq').where('id', '=', row.id).executeTakeFirstOrThrow();
  return { ...row, seq: Number(seq) };
}

export function pendingCommands(db: BridgeDb, roomId: string): Promise<GatewayCommand[]> {
  return db.selectFrom('gateway_commands').selectAll().where('room_id', '=', roomId).where('state', '=', 'pending').orderBy('seq').execute();
}

export async function markSent(db: BridgeDb, id: string, gatewayId: string, now: number): Promise<void> {
  await db.updateTable('gateway_commands').set((eb) => ({ sent_at: now, sent_to: gatewayId, attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute();
}

/** Records a command.result. Returns the command, or undefined for an id the cloud never sent. */
export async function recordResult(
  db: BridgeDb,
  r: { commandId: string; ok: boolean; error?: { code: string; message: string }; now: number },
): Promise<GatewayCommand | undefined> {
  const cmd = await db.selectFrom('gateway_commands').selectAll().where('id', '=', r.commandId).executeTakeFirst();
  if (!cmd) return undefined;
  if (cmd.state !== 'pending') return cmd; // a repeated result (the gateway re-answers resent commands)
  const patch = { state: r.ok ? ('confirmed' as const) : ('failed' as const), result_at: r.now, error_code: r.error?.code ?? null, error_message: r.error?.message.slice(0, 500) ?? null };
  await db.updateTable('gateway_commands').set(patch).where('id', '=', cmd.id).where('state', '=', 'pending').execute();
  return { ...cmd, ...patch };
}

/** Supersedes older pending commands of a type that only the newest matters for (timetable.set). */
export async function cancelPending(db: BridgeDb | BridgeTx, roomId: string, type: CommandType, now: number): Promise<number> {
  const res = await db.updateTable('gateway_commands').set({ state: 'cancelled', result_at: now, error_code: 'superseded' })
    .where('room_id', '=', roomId).where('type', '=', type).where('state', '=', 'pending').executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Cancels a session's pending command that was never published; returns it, or null when it was sent. */
export async function withdrawUnsent(db: BridgeDb, sessionId: string, type: CommandType, now: number): Promise<GatewayCommand | null> {
  const cmd = await commandFor(db, sessionId, type);
  if (!cmd || cmd.state !== 'pending' || cmd.sent_at !== null) return null;
  const res = await db.updateTable('gateway_commands').set({ state: 'cancelled', result_at: now, error_code: 'withdrawn' })
    .where('id', '=', cmd.id).where('state', '=', 'pending').where('sent_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1 ? { ...cmd, state: 'cancelled', result_at: now, error_code: 'withdrawn' } : null;
}

export function commandFor(db: BridgeDb, sessionId: string, type: CommandType): Promise<GatewayCommand | undefined> {
  return db.selectFrom('gateway_commands').selectAll().where('session_id', '=', sessionId).where('type', '=', type).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
}

export async function pendingCountsByRoom(db: BridgeDb): Promise<Map<string, number>> {
  const rows = await db.selectFrom('gateway_commands').select(['room_id', (eb) => eb.fn.countAll<number>().as('n')]).where('state', '=', 'pending').groupBy('room_id').execute();
  return new Map(rows.map((r) => [r.room_id, Number(r.n)]));
}

/** The envelope published on the cmd topic (docs/protocol.md §MQTT). */
export function commandEnvelope(cmd: GatewayCommand): string {
  return JSON.stringify({ id: cmd.id, type: cmd.type, at: new Date(cmd.created_at).toISOString(), data: JSON.parse(cmd.data) as unknown });
}
