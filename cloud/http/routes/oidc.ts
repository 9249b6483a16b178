/** /api/v1/auth/oidc: sign-in through the institution's OpenID provider (cloud/auth/oidc.ts, docs/api.md). */
import { z } from 'zod';
import { HttpError, badRequest } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { OIDC_CODE_TTL_MS, OIDC_LOGIN_TTL_MS, type OidcSignIn } from '../../auth/oidc.js';
import { tokenOut } from './auth.js';

/** Binds a started sign-in to the browser that started it; sent only to the callback. */
const BROWSER_COOKIE = 'att_oidc';
const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

const settingsOut = z.object({ enabled: z.boolean(), name: z.string().nullable(), login_url: z.string().nullable() });
const loginQuery = z.object({ return_to: z.string().max(2048).optional() });
const exchangeBody = z.object({ code: z.string().min(16).max(128) });

function browserCookie(value: string, secure: boolean, maxAgeS: number): string {
  return `${BROWSER_COOKIE}=${value}; Path=${CALLBACK_PATH}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function oidcRoutes(routes: RouteTable, deps: AppDeps): void {
  const enabled = (): OidcSignIn => {
    if (!deps.oidc) throw new HttpError(404, 'oidc_disabled', 'sign-in through the institution is not configured');
    return deps.oidc;
  };
  const secure = () => deps.oidc?.settings.redirectUri.startsWith('https:') ?? false;

  routes.add(
    {
      method: 'get', path: '/api/v1/auth/oidc', tag: 'auth', auth: 'public',
      summary: 'Whether sign-in through the institution is offered',
      description: 'The dashboard and the apps show "Sign in with <name>" when `enabled`; `login_url` starts it.',
      response: settingsOut,
    },
    async () => ({ enabled: deps.oidc !== undefined, name: deps.oidc?.settings.name ?? null, login_url: deps.oidc ? '/api/v1/auth/oidc/login' : null }),
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/auth/oidc/login', tag: 'auth', auth: 'public', status: 302,
      summary: "Start a sign-in at the institution's OpenID provider",
      description: `Redirects to the provider (authorization code with PKCE, state and nonce). \`return_to\` is absent or a path of this site (the dashboard), or one of ATTENDANCE_OIDC_APP_REDIRECTS (a native app); anything else is refused. The sign-in must be completed within ${OIDC_LOGIN_TTL_MS / 60_000} minutes in the same browser.`,
      query: loginQuery,
      errors: [[400, 'invalid_return_to'], [404, 'oidc_disabled'], [503, 'oidc_unavailable']],
    },
    async ({ query, ctx }) => {
      const { url, browser } = await enabled().begin(query.return_to);
      ctx.set('Cache-Control', 'no-store');
      ctx.append('Set-Cookie', browserCookie(browser, secure(), OIDC_LOGIN_TTL_MS / 1000));
      ctx.redirect(url);
    },
  );

  routes.add(
    {
      method: 'get', path: CALLBACK_PATH, tag: 'auth', auth: 'public', status: 302,
      summary: 'The provider returns here (the redirect URI)',
      description: `Checks state, PKCE, the id token's issuer, audience, nonce and times, signs the account in (see docs/api.md for which account) and redirects with a one-time code (valid ${OIDC_CODE_TTL_MS / 1000} s): to the dashboard path with \`#oidc_code=\` in the fragment, or to the app's redirect URI with \`?code=\`. The code is exchanged at POST /auth/oidc/exchange.`,
      errors: [[400, 'invalid_state'], [400, 'oidc_refused'], [400, 'oidc_missing_email'], [403, 'account_deactivated'], [404, 'oidc_disabled'], [409, 'account_not_linked'], [409, 'last_admin'], [503, 'oidc_unavailable']],
    },
    async ({ ctx }) => {
      const oidc = enabled();
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.append('Set-Cookie', browserCookie('', secure(), 0));
      const { returnTo, code } = await oidc.complete(ctx.querystring, ctx.cookies.get(BROWSER_COOKIE));
      if (returnTo.kind === 'dashboard') {
        ctx.redirect(`${returnTo.path}#oidc_code=${code}`);
      } else {
        const target = new URL(returnTo.uri);
        target.searchParams.set('code', code);
        ctx.redirect(target.href);
      }
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/oidc/exchange', tag: 'auth', auth: 'public',
      summary: "Exchange a finished sign-in's one-time code for an access token",
      description: 'The code works once and expires; the answer is the same as POST /auth/token.',
      body: exchangeBody, response: tokenOut,
      errors: [[400, 'validation_error'], [400, 'invalid_code'], [404, 'oidc_disabled']],
    },
    async ({ body, ctx }) => {
      const user = await enabled().redeem(body.code);
      if (!user) throw badRequest('invalid_code', 'this sign-in code is unknown, used or expired; sign in again');
      const { token, expiresIn } = await deps.tokens.issue(user);
      ctx.set('Cache-Control', 'no-store');
      return { access_token: token, token_type: 'bearer' as const, expires_in: expiresIn };
    },
  );
}
