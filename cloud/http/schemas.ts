/** Request/response schemas reused by several route modules (and by the OpenAPI document). */
import { z } from 'zod';
import { UUID_RE } from '../../shared/ids.js';

export const id = z.string().regex(UUID_RE, 'must be a UUID');
export const email = z.email().max(254).transform((e) => e.toLowerCase());
export const password = z.string().min(10, 'must be at least 10 characters').max(256);
export const fullName = z.string().trim().min(1).max(200);
export const role = z.enum(['student', 'teacher', 'admin']);
export const isoDate = z.iso.date();
export const idParams = z.object({ id });

export const userOut = z.object({ id, email: z.string(), full_name: z.string(), role, created_at: z.number().int(), deactivated_at: z.number().int().nullable() });

export const errorOut = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
