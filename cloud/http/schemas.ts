/** Request/response schemas reused by several route modules (and by the OpenAPI document). */
import { z } from 'zod';
import { UUID_RE } from '../../shared/ids.js';
import { MIN_PASSWORD_LENGTH, refuseWeakPassword } from '../auth/password-rules.js';

export const id = z.string().regex(UUID_RE, 'must be a UUID');
export const email = z.email().max(254).transform((e) => e.toLowerCase());
export const password = z.string().min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`).max(256).superRefine(refuseWeakPassword);

/**
 * Control characters (NUL, line breaks), lone surrogates, zero-width spaces, text direction marks,
 * overrides and isolates, and line/paragraph separators: in a name they only hide, reorder or
 * break what other people are shown.
 */
const INVISIBLE_OR_REORDERING = /[\p{Cc}\p{Cs}\u061C\u180E\u200B\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/u;
/**
 * The zero-width non-joiner and joiner are part of how Persian, Kurdish and Indic names are
 * spelled (U+200C in "میرزا‌زاده", U+200D in Devanagari conjuncts), so they stay allowed, but only
 * between two letters or marks: anywhere else they only hide something.
 */
const STRAY_JOINER = /(?<![\p{L}\p{M}])[\u200C\u200D]|[\u200C\u200D](?![\p{L}\p{M}])/u;

/** Free text shown to other people as a name (of a person, course, room, term, device): NFC, trimmed, visible characters only. */
export const displayText = (max: number) =>
  z.string().normalize('NFC').trim().min(1).max(max).refine((s) => !INVISIBLE_OR_REORDERING.test(s) && !STRAY_JOINER.test(s), {
    message: 'must not contain control, zero-width or text-direction characters',
  });

export const fullName = displayText(200);
export const role = z.enum(['student', 'teacher', 'admin']);
export const isoDate = z.iso.date();
export const idParams = z.object({ id });

export const userOut = z.object({ id, email: z.string(), full_name: z.string(), role, created_at: z.number().int(), deactivated_at: z.number().int().nullable(), email_verified_at: z.number().int().nullable() });

export const errorOut = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
