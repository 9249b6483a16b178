/**
 * Kysely types of the gateway tables (migration 002_gateways). Kept beside the bridge instead of
 * in the core schema: `gatewayDb(db)` widens the core database type with them (Kysely
 * `withTables`), so the core store stays unaware of MQTT.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

export type GatewayState = 'never_connected' | 'online' | 'offline';
export type CommandState = 'pending' | 'confirmed' | 'failed' | 'cancelled';

export interface GatewaysTable {
  id: string;
  room_id: string;
  secret_hash: string | null;
  created_at: number;
  created_by: string | null;
  revoked_at: number | null;
  state: GatewayState;
  state_at: number | null;
  online_since: number | null;
  last_heartbeat_at: number | null;
  clock_skew_ms: number | null;
  outbox_depth: number | null;
  version: string | null;
  radio: string | null;
  uptime_s: number | null;
  live_session_id: string | null;
  rejected_events: number;
  last_rejection: string | null;
}

export interface ProvisioningCodesTable {
  code_hash: string;
  gateway_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface GatewayCommandsTable {
  id: string;
  seq: number;
  room_id: string;
  type: string;
  data: string;
  session_id: string | null;
  state: CommandState;
  created_at: number;
  sent_at: number | null;
  sent_to: string | null;
  attempts: number;
  result_at: number | null;
  error_code: string | null;
  error_message: string | null;
}

export interface IngestedEventsTable {
  id: string;
  gateway_id: string;
  type: string;
  at: number;
  received_at: number;
}

export interface TokenLogTable {
  session_id: string;
  w: number;
  advertised_at: number;
  gateway_id: string;
  received_at: number;
}

export interface CourseSlotsTable {
  id: string;
  course_id: string;
  room_id: string;
  weekday: number;
  start_time: string;
  end_time: string;
  period_s: number | null;
  created_at: number;
}

// A type alias, not an interface: withTables<T> needs T to be an indexable record type.
export type GatewayTables = {
  gateways: GatewaysTable;
  gateway_provisioning_codes: ProvisioningCodesTable;
  gateway_commands: GatewayCommandsTable;
  ingested_events: IngestedEventsTable;
  token_log: TokenLogTable;
  course_slots: CourseSlotsTable;
};

export type BridgeDatabase = Database & GatewayTables;
export type BridgeDb = Kysely<BridgeDatabase>;
export type BridgeTx = Transaction<BridgeDatabase>;

export type Gateway = Selectable<GatewaysTable>;
export type GatewayCommand = Selectable<GatewayCommandsTable>;
export type CourseSlot = Selectable<CourseSlotsTable>;

export function gatewayDb(db: Kysely<Database>): BridgeDb {
  return db.withTables<GatewayTables>();
}

/** Unique-key violation on either backend (SQLite "UNIQUE constraint", PostgreSQL 23505). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === '23505' || /unique|duplicate/i.test(String(err?.message ?? ''));
}
