/**
 * Creates the first admin when no admin exists: from ATTENDANCE_ADMIN_EMAIL/PASSWORD, or else
 * `admin@localhost` with a random password written to a 0600 file in the data dir (never logged),
 * so `npm start` on a fresh machine is usable without any secret in code or docs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccountRepository } from '../store/accounts.js';

export async function ensureFirstAdmin(
  accounts: AccountRepository,
  admin: { email: string; password: string } | null,
  now: number,
  log: Logger,
  passwordFile: string,
): Promise<void> {
  if (await accounts.hasAdmin()) return;
  let account = admin;
  if (!account) {
    account = { email: 'admin@localhost', password: randomBytes(18).toString('base64url') };
    fs.mkdirSync(path.dirname(passwordFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(passwordFile, `${account.email}\n${account.password}\n`, { mode: 0o600 });
  }
  if (await accounts.findByEmail(account.email)) {
    log.warn({ email: account.email }, 'the first-admin e-mail belongs to a non-admin account; no admin created');
    return;
  }
  await accounts.create({ email: account.email, full_name: 'Administrator', password: account.password, role: 'admin' }, now);
  if (admin) log.info({ email: account.email }, 'created the first admin account');
  else log.warn({ email: account.email, password_file: passwordFile }, 'created the first admin account with a generated password; read it from the file, then change it with POST /api/v1/auth/password');
}
