/**
 * Self-registration that proves the address (docs/api.md, "Registration and e-mail
 * verification"). Registering answers the same whether the address is new, unconfirmed or taken;
 * what differs is only the mail, which goes to the address's owner:
 *
 * - a new address gets an unconfirmed student account and a one-time link;
 * - an unconfirmed address gets a new link that carries this registration's name and password,
 *   applied only when that link is used, so the owner of the mailbox can take over an account
 *   someone else registered with their address;
 * - a confirmed address gets a notice that someone tried to register with it.
 *
 * Every branch hashes the password once, so the answer's timing does not tell them apart either.
 * A link's token is stored only as its SHA-256, is valid for VERIFICATION_TTL_MS and works once.
 */
import { hashSecret, newSecret } from '../auth/secrets.js';
import { hashPassword } from '../auth/passwords.js';
import { DuplicateEmailError } from '../store/accounts.js';
import type { Store } from '../store/db.js';
import type { AccountMail } from './account-mail.js';

export const VERIFICATION_TTL_MS = 24 * 3_600_000;

export interface Registration {
  email: string;
  full_name: string;
  password: string;
}

export async function registerStudent(store: Store, mail: AccountMail, registration: Registration, now: number): Promise<void> {
  const existing = await store.accounts.findByEmail(registration.email);
  if (!existing) {
    let account;
    try {
      account = await store.accounts.create({ ...registration, role: 'student', emailVerified: false }, now);
    } catch (e) {
      // A concurrent registration of the same address won; it mails the owner.
      if (e instanceof DuplicateEmailError) return;
      throw e;
    }
    await mailLink(store, mail, account, null, now);
    return;
  }
  const passwordHash = await hashPassword(registration.password);
  if (existing.email_verified_at === null) {
    await mailLink(store, mail, existing, { full_name: registration.full_name, password_hash: passwordHash }, now);
  } else if (mail.mayMail(existing.email)) {
    mail.sendRegistrationNotice(existing.email);
  }
}

/** Uses a verification token: the verified account's id, or null for an unknown, used or expired one. */
export function verifyEmail(store: Store, token: string, now: number): Promise<string | null> {
  return store.emailVerifications.redeem(hashSecret(token), now);
}

async function mailLink(store: Store, mail: AccountMail, account: { id: string; email: string }, registration: { full_name: string; password_hash: string } | null, now: number): Promise<void> {
  if (!mail.mayMail(account.email)) return;
  const token = newSecret();
  await store.emailVerifications.insert({
    token_hash: hashSecret(token), user_id: account.id, full_name: registration?.full_name ?? null, password_hash: registration?.password_hash ?? null,
    created_at: now, expires_at: now + VERIFICATION_TTL_MS, used_at: null,
  });
  mail.sendVerification(account.email, token, VERIFICATION_TTL_MS / 3_600_000);
}
