/**
 * Sign-in through the institution's OpenID provider (docs/api.md, "Sign-in through the
 * institution"): the authorization code flow with PKCE, `state` and `nonce` (openid-client).
 *
 * A started sign-in is kept in the database (`oidc_logins`), not in a cookie, so any instance
 * behind the load balancer completes the callback and a sign-in is used once, even when two
 * callbacks race. It is bound to the browser that started it by a random cookie whose hash is
 * stored with it: a callback link that someone else started (login CSRF) is refused. The
 * finished sign-in hands over a one-time code (stored hashed, valid a minute) that the dashboard
 * or native app exchanges for the usual access token, so no token ever travels in a URL.
 */
import { hashSecret, newSecret } from './secrets.js';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { HttpError, badRequest } from '../http/errors.js';
import type { Store } from '../store/db.js';
import type { User } from '../store/schema.js';
import type { CloudEvents } from '../events.js';
import type { OidcSettings } from './oidc-settings.js';
import { signInAccount } from './oidc-accounts.js';

/** How long a started sign-in waits for its callback. */
export const OIDC_LOGIN_TTL_MS = 10 * 60_000;
/** How long the one-time code of a finished sign-in may be exchanged. */
export const OIDC_CODE_TTL_MS = 60_000;
const SCOPE = 'openid email profile';


/** Where a finished sign-in goes: a path of the dashboard (the code in the fragment) or a native app's redirect URI (the code in the query). */
export type ReturnTo = { kind: 'dashboard'; path: string } | { kind: 'app'; uri: string };

export interface OidcSignIn {
  readonly settings: OidcSettings;
  /** The provider's authorization URL and the browser-binding value to set as a cookie; throws 400 for a return_to that is not allowed. */
  begin(returnTo: string | undefined): Promise<{ url: string; browser: string }>;
  /** Completes the callback (its full query string) for the browser holding `browser`; the signed-in account and where to send the code. */
  complete(query: string, browser: string | undefined): Promise<{ user: User; returnTo: ReturnTo; code: string }>;
  /** The account of a one-time code, used once; null when unknown, used or expired. */
  redeem(code: string): Promise<User | null>;
}

export interface OidcDeps {
  store: Store;
  events: CloudEvents;
  clock: () => number;
  logger: Logger;
}

/** Checks a `return_to`: absent or a path on this origin (the dashboard), or one of the configured app redirect URIs. */
export function parseReturnTo(settings: OidcSettings, value: string | undefined): ReturnTo {
  if (value === undefined || value === '') return { kind: 'dashboard', path: '/dashboard' };
  if (settings.appRedirects.includes(value)) return { kind: 'app', uri: value };
  // A path on this origin: one leading slash, no scheme-relative `//host` or `/\host`, no fragment.
  if (/^\/(?![/\\])[^\s#\\]*$/.test(value)) return { kind: 'dashboard', path: value };
  throw badRequest('invalid_return_to', 'return_to must be a path of this site or a registered app redirect URI');
}

export function createOidcSignIn(settings: OidcSettings, deps: OidcDeps): OidcSignIn {
  const { store, clock } = deps;
  let discovered: Promise<client.ServerMetadata> | null = null;
  const insecure = settings.issuer.startsWith('http://');
  const authentication = () => (settings.clientSecret ? client.ClientSecretBasic(settings.clientSecret) : client.None());

  /** The provider's metadata, fetched once; a failed discovery is retried by the next sign-in. */
  function serverMetadata(): Promise<client.ServerMetadata> {
    discovered ??= client
      // http:// is accepted only for http://localhost issuers (cloud/config.ts), for development.
      .discovery(new URL(settings.issuer), settings.clientId, undefined, authentication(), insecure ? { execute: [client.allowInsecureRequests] } : {})
      .then((c) => c.serverMetadata())
      .catch((err: unknown) => {
        discovered = null;
        deps.logger.warn({ issuer: settings.issuer, err: (err as Error).message }, 'OpenID provider discovery failed');
        throw new HttpError(503, 'oidc_unavailable', 'the institution\'s sign-in cannot be reached; try again later');
      });
    return discovered;
  }

  /** The client, with the id token's times checked against the cloud's clock, the only one validation trusts. */
  async function configuration(): Promise<client.Configuration> {
    const config = new client.Configuration(await serverMetadata(), settings.clientId, { [client.clockSkew]: Math.round((clock() - Date.now()) / 1000) }, authentication());
    if (insecure) client.allowInsecureRequests(config);
    return config;
  }

  return {
    settings,

    async begin(returnToValue) {
      const returnTo = parseReturnTo(settings, returnToValue);
      const config = await configuration();
      const state = newSecret();
      const nonce = newSecret();
      const browser = newSecret();
      const verifier = client.randomPKCECodeVerifier();
      const now = clock();
      await store.identityLinks.startLogin({
        state_hash: hashSecret(state), browser_hash: hashSecret(browser), nonce, code_verifier: verifier,
        return_to: returnTo.kind === 'app' ? returnTo.uri : returnTo.path, created_at: now, expires_at: now + OIDC_LOGIN_TTL_MS,
      });
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri, scope: SCOPE, state, nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      return { url: url.href, browser };
    },

    async complete(query, browser) {
      const params = new URLSearchParams(query);
      const state = params.get('state');
      const pending = state ? await store.identityLinks.takeLogin(hashSecret(state), clock()) : undefined;
      if (!state || !pending || browser === undefined || hashSecret(browser) !== pending.browser_hash) {
        throw badRequest('invalid_state', 'this sign-in is unknown, used, expired or was started in another browser; start again');
      }
      const config = await configuration();
      let claims: Record<string, unknown>;
      try {
        const callbackUrl = new URL(settings.redirectUri);
        callbackUrl.search = params.toString();
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: pending.code_verifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true,
        });
        const idClaims = tokens.claims()!;
        const info = config.serverMetadata().userinfo_endpoint ? await client.fetchUserInfo(config, tokens.access_token, idClaims.sub) : {};
        claims = { ...info, ...idClaims };
      } catch (err) {
        throw refusal(err, deps.logger);
      }
      const user = await signInAccount(settings, deps, claims);
      const code = newSecret();
      const now = clock();
      await store.identityLinks.issueCode(hashSecret(code), user.id, now, now + OIDC_CODE_TTL_MS);
      return { user, returnTo: parseReturnTo(settings, pending.return_to ?? undefined), code };
    },

    async redeem(code) {
      const userId = await store.identityLinks.redeemCode(hashSecret(code), clock());
      const user = userId ? await store.accounts.get(userId) : undefined;
      return user && user.deactivated_at === null ? user : null;
    },
  };
}

/** What the provider or the id token's checks refused, as a 400 naming the reason (never a token or secret). */
function refusal(err: unknown, logger: Logger): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof TypeError && err.message === 'fetch failed') return new HttpError(503, 'oidc_unavailable', 'the institution\'s sign-in cannot be reached; try again later');
  // The provider's error code, or the failed check (oauth4webapi's message names the claim, never its value).
  const reason = err instanceof client.ResponseBodyError || err instanceof client.AuthorizationResponseError ? err.error
    : err instanceof client.ClientError && err.cause instanceof Error ? err.cause.message : (err as Error).message;
  logger.info({ reason }, 'sign-in through the OpenID provider refused');
  return badRequest('oidc_refused', `the institution's sign-in was not accepted: ${reason}`);
}
