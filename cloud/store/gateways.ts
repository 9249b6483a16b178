/**
 * Room gateways: provisioning (credentials once, or a one-time code), revocation, the state each
 * gateway last reported (status, heartbeat, clock skew), the input it had rejected, and the ids
 * of the events the cloud ingested from it (exactly-once in effect, docs/architecture.md,
 * "Delivery"). Every write to a gateway row is here.
 */
import { uuidv7 } from '../../shared/ids.js';
import { hashSecret, newSecret } from '../auth/secrets.js';
import { hashProvisioningCode, newProvisioningCode } from '../broker/credentials.js';
import { unitOfWork, type Queryable } from './repositories.js';
import type { Gateway, GatewayState, IngestedEvent, Room } from './schema.js';

export const PROVISIONING_CODE_TTL_MS = 15 * 60_000;

export interface Provisioned {
  gateway: Gateway;
  /** Present in 'credentials' mode: the gateway secret, shown exactly once. */
  secret?: string;
  /** Present in 'code' mode: the one-time code and when it expires. */
  code?: { value: string; expiresAt: number };
  revoked: string[];
}

export type ExchangeResult = { ok: true; gateway: Gateway; room: Room; secret: string } | { ok: false; reason: 'invalid_code' | 'code_expired' | 'gateway_revoked' };

/** What a heartbeat reports; `clock_skew_ms` is left out when the heartbeat cannot measure it. */
export interface HeartbeatFields {
  last_heartbeat_at: number;
  outbox_depth: number;
  radio: string;
  version: string;
  uptime_s: number;
  live_session_id: string | null;
  clock_skew_ms?: number;
}

/** A gateway with its room, as the fleet list shows it. */
export type GatewayWithRoom = Gateway & { room_name: string; room_code: number };

export class GatewayRepository {
  constructor(private readonly db: Queryable) {}

  get(id: string): Promise<Gateway | undefined> {
    return this.db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The room's gateway that is not revoked (at most one: a partial unique index). */
  activeForRoom(roomId: string): Promise<Gateway | undefined> {
    return this.db.selectFrom('gateways').selectAll().where('room_id', '=', roomId).where('revoked_at', 'is', null).executeTakeFirst();
  }

  /** Gateways by room name, newest first within a room; revoked ones only when asked for. */
  list(opts: { includeRevoked: boolean }): Promise<GatewayWithRoom[]> {
    let q = this.db.selectFrom('gateways').innerJoin('rooms', 'rooms.id', 'gateways.room_id').selectAll('gateways').select(['rooms.name as room_name', 'rooms.room_code'])
      .orderBy('rooms.name').orderBy('gateways.created_at', 'desc');
    if (!opts.includeRevoked) q = q.where('gateways.revoked_at', 'is', null);
    return q.execute();
  }

  /**
   * Creates the room's gateway, revoking the previous one in the same transaction
   * (re-provisioning). In 'code' mode the secret is created only when the code is exchanged, so
   * no secret ever rests in the database in a recoverable form.
   */
  provision(input: { room: Room; mode: 'credentials' | 'code'; now: number; actorId: string | null; codeTtlMs?: number }): Promise<Provisioned> {
    return unitOfWork(this.db, async (_tx, trx) => {
      const previous = await trx.selectFrom('gateways').select('id').where('room_id', '=', input.room.id).where('revoked_at', 'is', null).execute();
      if (previous.length) {
        await trx.updateTable('gateways').set({ revoked_at: input.now }).where('id', 'in', previous.map((g) => g.id)).execute();
      }
      const secret = input.mode === 'credentials' ? newSecret() : undefined;
      const gateway: Gateway = {
        id: uuidv7(input.now), room_id: input.room.id, secret_hash: secret ? hashSecret(secret) : null, created_at: input.now, created_by: input.actorId,
        revoked_at: null, state: 'never_connected', state_at: null, online_since: null, last_heartbeat_at: null, clock_skew_ms: null, outbox_depth: null,
        version: null, radio: null, uptime_s: null, live_session_id: null, rejected_events: 0, last_rejection: null, checkin_service: 0,
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

  /** Trades a one-time code for the gateway's credentials. The code is spent even if the answer is lost. */
  exchangeProvisioningCode(code: string, now: number): Promise<ExchangeResult> {
    return unitOfWork(this.db, async (tx, trx): Promise<ExchangeResult> => {
      const row = await trx.selectFrom('gateway_provisioning_codes').selectAll().where('code_hash', '=', hashProvisioningCode(code)).executeTakeFirst();
      if (!row || row.used_at !== null) return { ok: false, reason: 'invalid_code' };
      if (row.expires_at <= now) return { ok: false, reason: 'code_expired' };
      const spent = await trx.updateTable('gateway_provisioning_codes').set({ used_at: now }).where('code_hash', '=', row.code_hash).where('used_at', 'is', null).executeTakeFirst();
      if (Number(spent.numUpdatedRows) !== 1) return { ok: false, reason: 'invalid_code' };
      const gateway = await trx.selectFrom('gateways').selectAll().where('id', '=', row.gateway_id).executeTakeFirstOrThrow();
      if (gateway.revoked_at !== null) return { ok: false, reason: 'gateway_revoked' };
      const secret = newSecret();
      const secretHash = hashSecret(secret);
      await trx.updateTable('gateways').set({ secret_hash: secretHash }).where('id', '=', gateway.id).execute();
      const room = await tx.rooms.get(gateway.room_id);
      if (!room) throw new Error(`gateway ${gateway.id} names no room`);
      return { ok: true, gateway: { ...gateway, secret_hash: secretHash }, room, secret };
    });
  }

  /** Revokes a gateway's credentials; false when it does not exist or was already revoked. */
  async revoke(id: string, now: number): Promise<boolean> {
    const res = await this.db.updateTable('gateways').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** The state from the gateway's retained status; `online_since` marks when it came online. */
  /**
   * A status from the gateway. An online status also says whether it serves the GATT check-in; an
   * offline one (its will) keeps what the gateway last said, since its outbox still carries check-ins.
   */
  async setState(id: string, state: GatewayState, at: number, version?: string, checkin?: boolean): Promise<void> {
    await this.db.updateTable('gateways')
      .set({ state, state_at: at, online_since: state === 'online' ? at : null, ...(version ? { version } : {}), ...(state === 'online' ? { checkin_service: checkin ? 1 : 0 } : {}) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * A broker that is just starting has no gateway connected: every gateway still marked online is
   * stale (its retained status lived in the old broker's memory). Returns how many were marked.
   */
  async markAllOffline(at: number): Promise<number> {
    const res = await this.db.updateTable('gateways').set({ state: 'offline', state_at: at, online_since: null }).where('state', '=', 'online').executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async recordHeartbeat(id: string, fields: HeartbeatFields): Promise<void> {
    await this.db.updateTable('gateways').set(fields).where('id', '=', id).execute();
  }

  async recordRejection(id: string, reason: string): Promise<void> {
    await this.db.updateTable('gateways')
      .set((eb) => ({ rejected_events: eb('rejected_events', '+', 1), last_rejection: reason.slice(0, 200) }))
      .where('id', '=', id)
      .execute();
  }

  async isIngested(eventId: string): Promise<boolean> {
    return (await this.db.selectFrom('ingested_events').select('id').where('id', '=', eventId).executeTakeFirst()) !== undefined;
  }

  /**
   * Forgets event ids first received before the horizons (retention, docs/operations.md
   * "Retention"): heartbeats, whose repeat only rewrites the gateway's last state, before
   * `heartbeatsBefore`; every other event before `othersBefore`. Returns how many were deleted.
   */
  async purgeIngestedBefore(heartbeatsBefore: number, othersBefore: number): Promise<number> {
    const res = await this.db.deleteFrom('ingested_events')
      .where((eb) => eb.or([
        eb.and([eb('type', '=', 'heartbeat'), eb('received_at', '<', heartbeatsBefore)]),
        eb.and([eb('type', '<>', 'heartbeat'), eb('received_at', '<', othersBefore)]),
      ]))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Records an event id; false when it was already recorded (a repeat: apply nothing). */
  async recordIngested(event: IngestedEvent): Promise<boolean> {
    const res = await this.db.insertInto('ingested_events').values(event).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }
}
