/**
 * Room gateways (docs/operations.md): provisioning (credentials exactly once, or a one-time code the
 * gateway CLI exchanges), revocation, and the fleet's state as the gateways report it.
 * Secrets appear only in the provisioning answers, which are marked `Cache-Control: no-store`.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { gatewayClientId } from '../../../shared/mqtt/topics.js';
import { HttpError, notFound, tooManyAttempts } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import type { Gateway, Room } from '../../store/schema.js';
import { clockSkewFlagged } from '../../bridge/heartbeat.js';
import { iso } from '../views.js';
import { id, idParams } from '../schemas.js';
import { provisionCommand, provisioningQr } from '../provisioning-qr.js';

const ADMIN = ['admin'] as const;

export const gatewayAckOut = z.object({
  state: z.enum(['confirmed', 'failed', 'pending', 'queued', 'cancelled', 'no_gateway']),
  gateway_id: z.string().nullable(),
  command_id: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
}).nullable().describe("Whether the room's gateway confirmed the command (null when MQTT is disabled)");

/** The gateway config file the CLI writes (gateway/config.ts field names). */
const gatewayConfigOut = z.object({
  gateway_id: z.string(), room_code: z.number().int(), room_secret: z.string(), mqtt_url: z.string(), mqtt_username: z.string(), mqtt_password: z.string(), topic_prefix: z.string(),
});
const credentialsOut = z.object({ gateway_id: z.string(), room_id: id, room_code: z.number().int(), client_id: z.string(), config: gatewayConfigOut });

const provisioningQrOut = z.object({
  text: z.string().describe('what the QR code encodes (provisioning_command)'),
  size: z.number().int().describe("modules along a side, the 4-module quiet zone included: the SVG's viewBox is 0 0 size size"),
  path: z.string().describe('SVG path data of the dark modules'),
}).describe('the provisioning command as a QR code, for the installer to scan');

const gatewayOut = z.object({
  gateway_id: z.string(), room_id: id, room_name: z.string(), room_code: z.number().int(),
  state: z.enum(['never_connected', 'online', 'offline', 'revoked']), state_at: z.string().nullable(), last_heartbeat: z.string().nullable(),
  clock_skew_ms: z.number().nullable(), clock_skew_flagged: z.boolean(), outbox_depth: z.number().int().nullable(), pending_commands: z.number().int(),
  version: z.string().nullable(), radio: z.string().nullable(), uptime_s: z.number().nullable(), live_session_id: z.string().nullable(),
  rejected_events: z.number().int(), last_rejection: z.string().nullable(), created_at: z.string(), revoked_at: z.string().nullable(),
  checkin_service: z.boolean().describe('the gateway said it serves the GATT check-in, so require_proximity is on by default in its room'),
});

function mqttEndpoint(deps: AppDeps, ctx: Context) {
  if (!deps.gateways) throw new HttpError(409, 'mqtt_disabled', 'the cloud runs with MQTT disabled; gateways cannot be provisioned');
  return deps.gateways.mqttEndpoint(ctx.hostname || 'localhost');
}

function credentials(gateway: Gateway, room: Room, secret: string, endpoint: { url: string; topicPrefix: string }): z.infer<typeof credentialsOut> {
  return {
    gateway_id: gateway.id, room_id: room.id, room_code: room.room_code, client_id: gatewayClientId(gateway.id),
    config: {
      gateway_id: gateway.id, room_code: room.room_code, room_secret: room.secret, mqtt_url: endpoint.url,
      mqtt_username: gateway.id, mqtt_password: secret, topic_prefix: endpoint.topicPrefix,
    },
  };
}

export function gatewayRoutes(routes: RouteTable, deps: AppDeps): void {
  const { clock, store } = deps;

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/rooms/:id/gateways', tag: 'gateways', auth: ADMIN, status: 201, summary: "Provision the room's gateway",
      description: "mode 'code' (default) answers a one-time code valid for 15 minutes, to run `attendance-gateway provision --cloud URL --code CODE` on the gateway (also as provisioning_command and its QR code); mode 'credentials' answers the gateway's MQTT credentials and the room secret. Either way the secrets are shown exactly once. A room has one gateway: provisioning again revokes the previous one's credentials and disconnects it.",
      params: idParams, body: z.object({ mode: z.enum(['code', 'credentials']).default('code') }),
      response: z.object({
        gateway_id: z.string(), room_id: id, revoked: z.array(z.string()),
        provisioning_code: z.string().optional(), expires_at: z.string().optional(), exchange_path: z.string().optional(),
        provisioning_command: z.string().optional().describe('the command the installer runs on the gateway: the cloud address as this request reached it, and the code'),
        provisioning_qr: provisioningQrOut.optional(),
        credentials: credentialsOut.optional(),
      }),
      errors: [[404, 'not_found'], [409, 'mqtt_disabled']],
    },
    async ({ params, body, user, ctx }) => {
      const endpoint = mqttEndpoint(deps, ctx);
      const room = await store.rooms.get(params.id);
      if (!room) throw notFound('room');
      const now = clock();
      const p = await store.transaction(async (tx) => {
        const provisioned = await tx.gateways.provision({ room, mode: body.mode, now, actorId: user.id });
        await tx.audit.record({ at: now, actorId: user.id, action: 'gateway.provision', target: provisioned.gateway.id, details: { room_id: room.id, mode: body.mode, revoked: provisioned.revoked } });
        return provisioned;
      });
      // Every instance drops the revoked gateway's connection and cached row (cloud/main.ts).
      for (const old of p.revoked) deps.events.emit('gateway.revoked', { gateway_id: old });
      if (await store.timetable.roomHasSlots(room.id)) await deps.gateways?.pushTimetable(room.id);
      ctx.set('Cache-Control', 'no-store');
      const base = { gateway_id: p.gateway.id, room_id: room.id, revoked: p.revoked };
      if (p.code) {
        const command = provisionCommand(`${ctx.protocol}://${ctx.host}`, p.code.value);
        return { ...base, provisioning_code: p.code.value, expires_at: iso(p.code.expiresAt)!, exchange_path: '/api/v1/gateways/provision', provisioning_command: command, provisioning_qr: provisioningQr(command) };
      }
      return { ...base, credentials: credentials(p.gateway, room, p.secret!, endpoint) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/gateways/provision', tag: 'gateways', auth: 'public', summary: 'Exchange a one-time provisioning code for gateway credentials',
      description: 'Used by `attendance-gateway provision`. The code works once and expires 15 minutes after it was issued.',
      body: z.object({ code: z.string().trim().min(8).max(40) }), response: credentialsOut,
      errors: [[404, 'invalid_code'], [410, 'code_expired'], [410, 'gateway_revoked'], [409, 'mqtt_disabled'], [429, 'too_many_attempts']],
    },
    async ({ body, ctx }) => {
      const endpoint = mqttEndpoint(deps, ctx);
      // Codes carry 80 bits, but a public endpoint still gets the login's brute-force brake.
      const attempt = { account: 'gateway provisioning', address: ctx.ip };
      const wait = deps.loginLimiter.attempt(attempt);
      if (wait > 0) throw tooManyAttempts('too many wrong provisioning codes; try again later', wait);
      const r = await store.gateways.exchangeProvisioningCode(body.code, clock());
      if (!r.ok) {
        deps.loginLimiter.failed(attempt);
        deps.logger.warn({ reason: r.reason }, 'provisioning code refused');
        if (r.reason === 'invalid_code') throw new HttpError(404, 'invalid_code', 'unknown or already used provisioning code');
        throw new HttpError(410, r.reason, r.reason === 'code_expired' ? 'the provisioning code has expired' : 'this gateway was provisioned again; ask for a new code');
      }
      deps.loginLimiter.succeeded(attempt);
      await store.audit.record({ at: clock(), actorId: null, action: 'gateway.code_exchanged', target: r.gateway.id, details: { room_id: r.room.id } });
      ctx.set('Cache-Control', 'no-store');
      return credentials(r.gateway, r.room, r.secret, endpoint);
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/admin/gateways', tag: 'gateways', auth: ADMIN, summary: 'Gateways with their state, last heartbeat, clock skew, outbox depth and version',
      description: 'clock_skew_ms is the gateway clock minus the cloud clock at its last heartbeat; over 2 s it is flagged (tokens are time based). outbox_depth is what the gateway reported; pending_commands is what the cloud still has to deliver to the room.',
      query: z.object({ include_revoked: z.enum(['true', 'false']).default('false') }),
      response: z.object({
        items: z.array(gatewayOut),
        now: z.string().describe("the cloud's clock when it answered, against which last_heartbeat and state_at are to be read"),
        timezone: z.string().describe("the institution's time zone, to show the times in"),
      }),
    },
    async ({ query }) => {
      const [rows, pending] = await Promise.all([store.gateways.list({ includeRevoked: query.include_revoked === 'true' }), store.commands.pendingCountsByRoom()]);
      return {
        now: iso(clock())!, timezone: deps.settings.timezone,
        items: rows.map((g) => ({
          gateway_id: g.id, room_id: g.room_id, room_name: g.room_name, room_code: g.room_code,
          state: g.revoked_at !== null ? ('revoked' as const) : g.state, state_at: iso(g.state_at), last_heartbeat: iso(g.last_heartbeat_at),
          clock_skew_ms: g.clock_skew_ms, clock_skew_flagged: clockSkewFlagged(g.clock_skew_ms), outbox_depth: g.outbox_depth,
          pending_commands: g.revoked_at === null ? (pending.get(g.room_id) ?? 0) : 0, version: g.version, radio: g.radio, uptime_s: g.uptime_s,
          live_session_id: g.live_session_id, rejected_events: g.rejected_events, last_rejection: g.last_rejection, created_at: iso(g.created_at)!, revoked_at: iso(g.revoked_at),
          checkin_service: g.checkin_service === 1,
        })),
      };
    },
  );

  routes.add(
    {
      method: 'delete', path: '/api/v1/admin/gateways/:id', tag: 'gateways', auth: ADMIN, status: 204, summary: "Revoke a gateway's credentials and disconnect it",
      params: idParams, errors: [[404, 'not_found']],
    },
    async ({ params, user }) => {
      const now = clock();
      const revoked = await store.transaction(async (tx) => {
        if (!(await tx.gateways.revoke(params.id, now))) return false;
        await tx.audit.record({ at: now, actorId: user.id, action: 'gateway.revoke', target: params.id });
        return true;
      });
      if (!revoked) throw notFound('gateway');
      deps.events.emit('gateway.revoked', { gateway_id: params.id });
      return null;
    },
  );
}
