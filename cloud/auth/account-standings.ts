/**
 * Each account's standing (its token version, whether it is active) for the token check on every
 * authenticated request, cached for STANDING_TTL_MS (bounded) so that the submission hot path
 * does not read the account per request; the accounts missed in one turn of the event loop are
 * read in one query. A change (password, role, deactivation, log out everywhere) drops the entry
 * at once: in this process through `account.tokens_revoked`, made by another cloud instance
 * through the change feed (cloud/store/change-feed.ts); the TTL is the safety net should a
 * notification be lost.
 */
import type { CloudEvents } from '../events.js';
import { onChange } from '../store/change-feed.js';
import type { AccountRepository, AccountStanding } from '../store/accounts.js';
import { ReadThroughCache } from '../store/read-through-cache.js';

export const STANDING_TTL_MS = 3000;
const MAX_ENTRIES = 10_000;

export interface AccountStandings {
  /** The account's standing, or null when there is no such account. */
  of(userId: string): Promise<AccountStanding | null>;
  /** Removes the event listener. */
  close(): void;
}

export function createAccountStandings(accounts: Pick<AccountRepository, 'standings'>, events: CloudEvents, now: () => number): AccountStandings {
  const cache = new ReadThroughCache<string, AccountStanding | null>({
    ttlMs: STANDING_TTL_MS,
    maxEntries: MAX_ENTRIES,
    loadMany: (ids) => accounts.standings(ids),
    missing: null,
  });
  const owner = {};
  onChange(events, owner, (change) => {
    if (change.kind === 'all') cache.clear();
    else if (change.kind === 'account') cache.delete(change.id);
  });
  return {
    of: (userId) => cache.get(userId, now()),
    close: () => events.off(owner),
  };
}
