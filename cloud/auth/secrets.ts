/**
 * Random secrets the cloud hands out once — gateway passwords, one-time sign-in codes, e-mail
 * verification links — and how it keeps them: only their SHA-256. A slow KDF buys nothing for a
 * secret with 256 bits of entropy (there is no dictionary to slow down) and would make every
 * check cost tens of milliseconds.
 */
import { createHash, randomBytes } from 'node:crypto';

export const SECRET_BYTES = 32;

/** 32 random bytes, base64url. */
export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** What is stored of a secret: its SHA-256, hex. */
export function hashSecret(secret: string | Buffer): string {
  return createHash('sha256').update(secret).digest('hex');
}
