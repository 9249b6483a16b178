/**
 * Each account's standing (its token version, whether it is active) for the token check on every
 * authenticated request, cached for STANDING_TTL_MS (bounded) so that the submission hot path
 * does not read the account per request. A change (password, role, deactivation, log out
 * everywhere) drops the entry at once: in this process through `account.tokens_revoked`, made by
 * another cloud instance through the change feed (cloud/store/change-feed.ts); the TTL is the
 * safety net should a notification be lost.
 */
import type { CloudEvents } from '../events.js';
import { onChange } from '../store/change-feed.js';
import type { AccountRepository, AccountStanding } from '../store/accounts.js';

export const STANDING_TTL_MS = 3000;
const MAX_ENTRIES = 10_000;

export interface AccountStandings {
  /** The account's standing, or null when there is no such account. */
  of(userId: string): Promise<AccountStanding | null>;
  /** Removes the event listener. */
  close(): void;
}

export function createAccountStandings(accounts: Pick<AccountRepository, 'standing'>, events: CloudEvents, now: () => number): AccountStandings {
  const cache = new Map<string, { value: AccountStanding | null; expires: number }>();
  // Counts invalidations, so a read that began before one is not cached after it.
  let revocations = 0;
  const owner = {};
  onChange(events, owner, (change) => {
    if (change.kind !== 'account' && change.kind !== 'all') return;
    revocations++;
    if (change.kind === 'all') cache.clear();
    else cache.delete(change.id);
  });
  return {
    async of(userId) {
      const hit = cache.get(userId);
      if (hit && hit.expires > now()) return hit.value;
      const seen = revocations;
      const value = await accounts.standing(userId);
      if (seen === revocations) {
        if (cache.size >= MAX_ENTRIES) cache.clear();
        cache.set(userId, { value, expires: now() + STANDING_TTL_MS });
      }
      return value;
    },
    close: () => events.off(owner),
  };
}
