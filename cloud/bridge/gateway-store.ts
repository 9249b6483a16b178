/**
 * Gateway rows: provisioning (credentials once, or a one-time code), revocation, the state each
 * gateway last reported (status, heartbeat, clock skew) and the input it had rejected.
 */
import { uuidv7 } from '../../shared/ids.js';
import type { Room } from '../store/schema.js';
import { hashProvisioningCode, hashSecret, newGatewaySecret, newProvisioningCode } from '../broker/credentials.js';
import type { BridgeDb, Gateway, GatewayState } from './tables.js';

export const PROVISIONING_CODE_TTL_MS = 15 * 60_000;

export interface Provisioned {
  gateway: Gateway;
  /** Present in 'credentials' mode: the gateway secret, shown exactly once. */
  secret?: string;
  /** Present in 'code' mode: the one-time code and when it expires. */
  code?: { value: string; expiresAt: number };
  revoked: string[];
}

/**
 * Creates the room's gateway, revoking the previous one in the same transaction (re-provisioning,
 * docs/operations.md). In 'code' mode the secret is created only when the code is exchanged, so no secret
 * ever rests in the database in a recoverable form.
 */
export async function provisionGateway(
  db: BridgeDb,
  input: { room: Room; mode: 'credentials' | 'code'; now: number; actorId: string | null; codeTtlMs?: number },
): Promise<Provisioned> {
  return db.transaction().execute(async (trx) => {
    const previous = await trx.selectFrom('gateways').select('id').where('room_id', '=', input.room.id).where('revoked_at', 'is', null).execute();
    if (previous.length) {
      await trx.updateTable('gateways').set({ revoked_at: input.now }).where('id', 'in', previous.map((g) => g.id)).execute();
    }
    const secret = input.mode === 'credentials' ? newGatewaySecret() : undefined;
    const gateway: Gateway = {
      id: uuidv7(input.now), room_id: input.room.id, secret_hash: secret ? hashSecret(secret) : null, created_at: input.now, created_by: input.actorId,
      revoked_at: null, state: 'never_connected', state_at: null, online_since: null, last_heartbeat_at: null, clock_skew_ms: null, outbox_depth: null,
      version: null, radio: null, uptime_s: null, live_session_id: null, rejected_events: 0, last_rejection: null,
    };
    await trx.insertInto('gateways').values(gateway).execute();
    let code: Provisioned['code'];
    if (input.mode === 'code') {
      const value = newProvisioningCode();
      const expiresAt = input.now + (input.codeTtlMs ?? PROVISIONING_CODE_TTL_MS);
      await trx.insertInto('gateway_provisioning_codes').values({ code_hash: hashProvisioningCode(value), gateway_id: gateway.id, created_at: input.now, expires_at: expiresAt, used_at: null }).execute();
      code = { value, expiresAt };
    }
    return { gateway, ...(secret ? { secret } : {}), ...(code ? { code } : {}), revoked: previous.map((g) => g.id) };
  });
}

export type ExchangeResult = { ok: true; gateway: Gateway; room: Room; secret: string } | { ok: false; reason: 'invalid_code' | 'code_expired' | 'gateway_revoked' };

/** Trades a one-time code for the gateway's credentials. The code is spent even if the answer is lost. */
export async function exchangeProvisioningCode(db: BridgeDb, code: string, now: number): Promise<ExchangeResult> {
  return db.transaction().execute(async (trx): Promise<ExchangeResult> => {
    const row = await trx.selectFrom('gateway_provisioning_codes').selectAll().where('code_hash', '=', hashProvisioningCode(code)).executeTakeFirst();
    if (!row || row.used_at !== null) return { ok: false, reason: 'invalid_code' };
    if (row.expires_at <= now) return { ok: false, reason: 'code_expired' };
    const spent = await trx.updateTable('gateway_provisioning_codes').set({ used_at: now }).where('code_hash', '=', row.code_hash).where('used_at', 'is', null).executeTakeFirst();
    if (Number(spent.numUpdatedRows) !== 1) return { ok: false, reason: 'invalid_code' };
    const gateway = await trx.selectFrom('gateways').selectAll().where('id', '=', row.gateway_id).executeTakeFirstOrThrow();
    if (gateway.revoked_at !== null) return { ok: false, reason: 'gateway_revoked' };
    const secret = newGatewaySecret();
    await trx.updateTable('gateways').set({ secret_hash: hashSecret(secret) }).where('id', '=', gateway.id).execute();
    const room = await trx.selectFrom('rooms').selectAll().where('id', '=', gateway.room_id).executeTakeFirstOrThrow();
    return { ok: true, gateway: { ...gateway, secret_hash: hashSecret(secret) }, room, secret };
  });
}

export function getGateway(db: BridgeDb, id: string): Promise<Gateway | undefined> {
  return db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
}

export function activeGatewayForRoom(db: BridgeDb, roomId: string): Promise<Gateway | undefined> {
  return db.selectFrom('gateways').selectAll().where('room_id', '=', roomId).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function setGatewayState(db: BridgeDb, id: string, state: GatewayState, at: number, version?: string): Promise<void> {
  await db.updateTable('gateways')
    .set({ state, state_at: at, online_since: state === 'online' ? at : null, ...(version ? { version } : {}) })
    .where('id', '=', id)
    .execute();
}

export async function recordRejection(db: BridgeDb, id: string, reason: string): Promise<void> {
  await db.updateTable('gateways')
    .set((eb) => ({ rejected_events: eb('rejected_events', '+', 1), last_rejection: reason.slice(0, 200) }))
    .where('id', '=', id)
    .execute();
}
