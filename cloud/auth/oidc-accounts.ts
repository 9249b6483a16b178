/**
 * Which account a sign-in through the OpenID provider opens (docs/api.md, "Sign-in through the
 * institution"). An account is found by its identity link (issuer, `sub`), never by its e-mail
 * alone. On the first sign-in an account imported from the institution is linked (by the
 * configured account claim, its `sourced_id`, or else by a verified e-mail equal to its own);
 * without one, a new account is made. An account that was not imported (a self-registered
 * password account) is never taken over. The role follows the provider's role claim at every
 * sign-in; a change raises the token version, so tokens issued under the old role die.
 */
import { HttpError, conflict } from '../http/errors.js';
import { DuplicateEmailError, LastAdminError } from '../store/accounts.js';
import type { User } from '../store/schema.js';
import { roleFromClaims, type OidcSettings } from './oidc-settings.js';
import type { OidcDeps } from './oidc.js';

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

export async function signInAccount(settings: OidcSettings, deps: Pick<OidcDeps, 'store' | 'events' | 'clock'>, claims: Record<string, unknown>): Promise<User> {
  const { store, clock, events } = deps;
  const issuer = settings.issuer;
  const subject = String(claims.sub);
  const now = clock();
  const role = roleFromClaims(settings, claims);
  let user: User | undefined;
  const link = await store.identityLinks.findLink(issuer, subject);
  if (link) {
    user = await store.accounts.get(link.user_id);
    await store.identityLinks.touch(issuer, subject, now);
  } else {
    user = await firstSignIn(settings, deps, claims, role, subject);
  }
  if (!user) throw new HttpError(403, 'account_unavailable', 'the account linked to this sign-in no longer exists; ask an administrator');
  if (user.deactivated_at !== null) throw new HttpError(403, 'account_deactivated', 'this account is deactivated; ask an administrator');
  if (user.role === role) return user;
  let changed;
  try {
    changed = await store.accounts.change(user.id, { role });
  } catch (e) {
    if (e instanceof LastAdminError) throw conflict('last_admin', 'the provider no longer makes this account an admin, but it is the last active admin; make another admin first');
    throw e;
  }
  if (!changed) throw new HttpError(403, 'account_unavailable', 'the account linked to this sign-in no longer exists; ask an administrator');
  await store.audit.record({ at: now, actorId: user.id, action: 'user.role_from_provider', target: user.id, details: { from: changed.before.role, to: changed.after.role } });
  events.emit('account.tokens_revoked', { user_id: user.id });
  return changed.after;
}

/** Links the imported account this person has, or makes a new one; refuses when the e-mail belongs to an account that was not imported. */
async function firstSignIn(settings: OidcSettings, deps: Pick<OidcDeps, 'store' | 'clock'>, claims: Record<string, unknown>, role: User['role'], subject: string): Promise<User> {
  const { store, clock } = deps;
  const now = clock();
  const email = text(claims.email)?.toLowerCase();
  const sourcedId = settings.accountClaim ? text(claims[settings.accountClaim]) : undefined;
  const imported = settings.accountClaim
    ? sourcedId && (await store.accounts.findBySourcedId(sourcedId))
    : email && claims.email_verified === true && (await store.accounts.findByEmail(email));
  if (imported && imported.sourced_id !== null) {
    if (await store.identityLinks.isLinked(imported.id)) throw conflict('account_not_linked', 'the institution\'s account with this e-mail is already linked to another sign-in; ask an administrator');
    await store.identityLinks.link(settings.issuer, subject, imported.id, now);
    await store.audit.record({ at: now, actorId: imported.id, action: 'user.link_provider', target: imported.id, details: { issuer: settings.issuer } });
    return imported;
  }
  if (!email) throw new HttpError(400, 'oidc_missing_email', 'the institution\'s sign-in did not tell this account\'s e-mail address; ask an administrator to release the email claim');
  const name = text(claims.name) ?? ([text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ') || email);
  try {
    // The account and its link are made together, or not at all.
    return await store.transaction(async (tx) => {
      const created = await tx.accounts.createWithoutPassword({ email, full_name: name.slice(0, 200), role }, now);
      await tx.identityLinks.link(settings.issuer, subject, created.id, now);
      await tx.audit.record({ at: now, actorId: created.id, action: 'user.create_from_provider', target: created.id, details: { issuer: settings.issuer, role } });
      return created;
    });
  } catch (e) {
    if (!(e instanceof DuplicateEmailError)) throw e;
    // A concurrent first sign-in of the same person made the account: use it.
    const raced = await store.identityLinks.findLink(settings.issuer, subject);
    const account = raced && (await store.accounts.get(raced.user_id));
    if (account) return account;
    throw conflict('account_not_linked', 'an account with this e-mail exists but was not made by the institution, so it cannot be signed in through it; log in with its password, or ask an administrator');
  }
}
