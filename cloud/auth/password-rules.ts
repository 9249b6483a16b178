/**
 * What makes a password too weak to accept beyond its length (docs/api.md, "Passwords"): nothing
 * but whitespace, one character repeated, or one of the most common passwords that are long enough
 * to pass the length rule (a short list kept here, compared case-insensitively).
 */
import type { z } from 'zod';

export const MIN_PASSWORD_LENGTH = 10;

const COMMON_PASSWORDS = new Set([
  '0123456789', '1234567890', '0987654321', '9876543210', '1234567891', '1234512345', '1122334455', '1212121212', '123456789a', 'a123456789',
  '123456789q', 'abc1234567', 'abcd123456', 'abcdefghij', 'qwertyuiop', 'qwerty1234', 'qwerty12345', 'qwerty123456', '1q2w3e4r5t', '1q2w3e4r5t6y',
  '1qaz2wsx3edc', 'zaq12wsxcde', 'asdfghjkl1', 'asdfghjkl;', 'zxcvbnm123', 'password12', 'password123', 'password1234', 'password!!', 'passw0rd12',
  'passw0rd123', 'p@ssw0rd123', 'p@ssword123', 'iloveyou12', 'iloveyou123', 'letmein123', 'welcome123', 'welcome1234', 'changeme123', 'football123',
  'baseball123', 'monkey1234', 'dragon1234', 'sunshine12', 'sunshine123', 'princess12', 'princess123', 'superman123', 'trustno1234', 'administrator',
  'admin12345', 'admin123456', 'student123', 'student1234', 'attendance', 'attendance1', 'attendance123',
]);

/** Why the password is refused, or null if it passes these rules. */
export function passwordWeakness(password: string): string | null {
  if (password.trim() === '') return 'must not be only spaces';
  if (new Set(password).size === 1) return 'must not be one character repeated';
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'is one of the most common passwords; choose another';
  return null;
}

/** The same rules as a zod refinement, for every schema that takes a password (API, configuration). */
export function refuseWeakPassword(password: string, ctx: z.RefinementCtx): void {
  const weakness = passwordWeakness(password);
  if (weakness) ctx.addIssue({ code: 'custom', message: weakness });
}
