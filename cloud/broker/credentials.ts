/**
 * Gateway credentials (docs/protocol.md §MQTT): the password is a random secret issued once
 * (cloud/auth/secrets.ts), of which the cloud keeps only its SHA-256. Comparisons are constant time. Provisioning codes are short-lived one-time codes, stored hashed
 * the same way.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashSecret } from '../auth/secrets.js';

/** 10 bytes in Crockford base32: 16 characters, 80 bits, typed by an installer if need be. */
export const PROVISIONING_CODE_BYTES = 10;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Constant-time check of a presented secret against the stored hash. */
export function secretMatches(presented: string | Buffer | undefined, storedHash: string | null): boolean {
  if (presented === undefined || storedHash === null || !/^[0-9a-f]{64}$/.test(storedHash)) return false;
  return timingSafeEqual(Buffer.from(hashSecret(presented), 'hex'), Buffer.from(storedHash, 'hex'));
}

export function newProvisioningCode(): string {
  const bytes = randomBytes(PROVISIONING_CODE_BYTES);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return `${out.slice(0, 4)}-${out.slice(4, 8)}-${out.slice(8, 12)}-${out.slice(12)}`;
}

/** Normalises what a person typed (case, dashes, O/I/L look-alikes) before hashing. */
export function normaliseProvisioningCode(code: string): string {
  const plain = code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return plain.length === 16 ? `${plain.slice(0, 4)}-${plain.slice(4, 8)}-${plain.slice(8, 12)}-${plain.slice(12)}` : plain;
}

export function hashProvisioningCode(code: string): string {
  return hashSecret(`att/v1/provisioning|${normaliseProvisioningCode(code)}`);
}
