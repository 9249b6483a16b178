/**
 * Message schemas on the MQTT link — docs/protocol.md §MQTT (contract).
 * Both directions use the envelope {id: uuidv7, type, at: ISO-8601, data}.
 */
import { z } from 'zod';
import { MAX_PERIOD_S, MIN_PERIOD_S } from '../token.js';
import { UUID_RE } from '../ids.js';
import { KEY_ID_LENGTH, NONCE_LENGTH, SIGNATURE_LENGTH } from '../checkin.js';
import { CHECKIN_KEYS_VERSION, KEYS_PER_PART, MAX_KEY_SET_PARTS } from './checkin-keys.js';

const uuid = z.string().regex(UUID_RE, 'must be a lowercase UUID');
const isoTime = z.iso.datetime({ offset: true });
const periodS = z.number().int().min(MIN_PERIOD_S).max(MAX_PERIOD_S);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');
const hexBytes = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `must be ${bytes * 2} lowercase hex characters`);
const bleAddress = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'must be a BLE address aa:bb:cc:dd:ee:ff');

export const gatewayStatusSchema = z.object({
  state: z.enum(['online', 'offline']),
  at: isoTime,
  version: z.string().max(64),
  /** The gateway serves the GATT check-in (docs/protocol.md, "Proof of proximity"); absent: it does not. */
  checkin: z.boolean().optional(),
});
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;

export const sessionSourceSchema = z.enum(['cloud', 'timetable', 'gateway']);

export const eventDataSchemas = {
  'session.started': z.object({
    session_id: uuid,
    room_code: z.number().int().min(0).max(0xffffffff),
    course_id: z.string().max(64).nullable(),
    period_s: periodS,
    started_at: isoTime,
    ends_at: isoTime.nullable().optional(),
    source: sessionSourceSchema,
  }),
  'session.ended': z.object({
    session_id: uuid,
    ended_at: isoTime,
    reason: z.enum(['command', 'timetable', 'scheduled_end', 'replaced', 'operator']),
  }),
  'token.rotated': z.object({
    session_id: uuid,
    w: z.number().int().min(0).max(0xffffffff),
    advertised_at: isoTime,
  }),
  heartbeat: z.object({
    uptime_s: z.number().nonnegative(),
    clock: isoTime,
    radio: z.string().max(32),
    outbox_depth: z.number().int().nonnegative(),
    memory_rss: z.number().int().nonnegative(),
    version: z.string().max(64),
    session_id: uuid.nullable().optional(),
  }),
  'command.result': z.object({
    command_id: z.string().min(1).max(64),
    ok: z.boolean(),
    error: z.object({ code: z.string().max(64), message: z.string().max(500) }).optional(),
  }),
  /** A phone's answer to a GATT challenge, as the gateway received it (shared/checkin.ts); `at` is when. */
  'checkin.received': z.object({
    session_id: uuid,
    w: z.number().int().min(0).max(0xffffffff),
    key_id: hexBytes(KEY_ID_LENGTH),
    nonce: hexBytes(NONCE_LENGTH),
    signature: hexBytes(SIGNATURE_LENGTH),
    rssi: z.number().int().min(-127).max(20).nullable(),
    peer: bleAddress,
    latency_ms: z.number().int().nonnegative(),
  }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

const timetableSlot = z.object({
  course_id: z.string().min(1).max(64),
  weekday: z.number().int().min(0).max(6),
  start: hhmm,
  end: hhmm,
  period_s: periodS.optional(),
});

export const commandDataSchemas = {
  'session.start': z.object({
    session_id: uuid,
    course_id: z.string().max(64).nullable(),
    period_s: periodS,
    ends_at: isoTime.nullable().optional(),
  }),
  'session.end': z.object({ session_id: uuid }),
  'config.set': z
    .object({
      heartbeat_s: z.number().int().min(5).max(3600).optional(),
      default_period_s: periodS.optional(),
      idle_frame: z.boolean().optional(),
    })
    .strict(),
  'timetable.set': z.object({
    timezone: z.string().min(1).max(64),
    slots: z.array(timetableSlot).max(500),
  }),
  ping: z.object({}).passthrough(),
  /** One part of the session's check-in keys (shared/mqtt/checkin-keys.ts); version 1 of its layout. */
  'checkin_keys.set': z
    .object({
      v: z.literal(CHECKIN_KEYS_VERSION),
      session_id: uuid,
      digest: hexBytes(16),
      part: z.number().int().min(0).max(MAX_KEY_SET_PARTS - 1),
      parts: z.number().int().min(1).max(MAX_KEY_SET_PARTS),
      keys: z
        .array(z.object({ key_id: hexBytes(KEY_ID_LENGTH), key: z.string().min(1).max(256).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url') }).strict())
        .max(KEYS_PER_PART),
    })
    .strict()
    .refine((d) => d.part < d.parts, { message: 'part must be below parts', path: ['part'] }),
} as const;

export type CommandType = keyof typeof commandDataSchemas;
export type CommandData<T extends CommandType> = z.infer<(typeof commandDataSchemas)[T]>;
export type TimetableSlot = z.infer<typeof timetableSlot>;

const envelopeBase = z.object({
  id: uuid,
  type: z.string().min(1).max(64),
  at: isoTime,
  data: z.unknown(),
});

export type Envelope<T extends string = string, D = unknown> = { id: string; type: T; at: string; data: D };
export type ParseResult<T> = { ok: true; value: T } | { ok: false; code: string; message: string; id?: string };

function parseEnvelope<S extends Record<string, z.ZodType>>(
  raw: Buffer | string,
  schemas: S,
  maxBytes: number,
): ParseResult<Envelope<Extract<keyof S, string>, z.infer<S[keyof S]>>> {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) return { ok: false, code: 'payload_too_large', message: `payload of ${size} bytes exceeds ${maxBytes}` };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    return { ok: false, code: 'malformed_json', message: 'payload is not valid JSON' };
  }
  const env = envelopeBase.safeParse(json);
  if (!env.success) {
    const id = typeof (json as { id?: unknown })?.id === 'string' ? ((json as { id: string }).id).slice(0, 64) : undefined;
    return { ok: false, code: 'invalid_envelope', message: z.prettifyError(env.error), id };
  }
  const schema = Object.hasOwn(schemas, env.data.type) ? schemas[env.data.type as keyof S] : undefined;
  if (!schema) return { ok: false, code: 'unknown_type', message: `unknown type ${env.data.type}`, id: env.data.id };
  const data = schema.safeParse(env.data.data);
  if (!data.success) return { ok: false, code: 'invalid_data', message: z.prettifyError(data.error), id: env.data.id };
  return { ok: true, value: { ...env.data, type: env.data.type as Extract<keyof S, string>, data: data.data as z.infer<S[keyof S]> } };
}

export function parseEvent(raw: Buffer | string, maxBytes = 64 * 1024) {
  return parseEnvelope(raw, eventDataSchemas, maxBytes);
}

export function parseCommand(raw: Buffer | string, maxBytes = 64 * 1024) {
  return parseEnvelope(raw, commandDataSchemas, maxBytes);
}

export function parseStatus(raw: Buffer | string): ParseResult<GatewayStatus> {
  try {
    const r = gatewayStatusSchema.safeParse(JSON.parse(raw.toString()));
    return r.success ? { ok: true, value: r.data } : { ok: false, code: 'invalid_status', message: z.prettifyError(r.error) };
  } catch {
    return { ok: false, code: 'malformed_json', message: 'payload is not valid JSON' };
  }
}
