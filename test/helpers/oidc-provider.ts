/**
 * A real OpenID Provider for the tests (oidc-provider, on a port of its own): one confidential
 * client with PKCE required, people whose claims the test sets, and an interaction that signs in
 * whoever the test chose (no login form). `authorize` walks the provider's redirects over HTTP
 * with a cookie jar, as a browser would, and returns where the provider sends the browser back.
 */
import http from 'node:http';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type Claims = Record<string, unknown>;

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The cloud's environment for signing in through this provider, the cloud being reached at `publicUrl`. */
  cloudEnv(publicUrl: string): Record<string, string>;
  /** Claims (besides `sub`) of each person, by subject; the test edits them between sign-ins. */
  people: Map<string, Claims>;
  /** The subject the next interaction signs in. */
  signInAs(subject: string): void;
  /** Rewrites the id token of the next token response, re-signed with the provider's own key. */
  tamperNextIdToken(change: (claims: Claims) => Claims): void;
  /** Follows the provider's redirects from an authorization URL; the URL it sends the browser back to. */
  authorize(authorizationUrl: string): Promise<URL>;
  close(): Promise<void>;
}

interface ProviderInstance {
  callback(): http.RequestListener;
  use(mw: (ctx: KoaLike, next: () => Promise<void>) => Promise<void>): void;
  interactionResult(req: http.IncomingMessage, res: http.ServerResponse, result: object, opts?: object): Promise<string>;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ params: Record<string, string> }>;
  Grant: new (p: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
}
interface KoaLike { path: string; req: http.IncomingMessage; res: http.ServerResponse; body: unknown; redirect(url: string): void }

// oidc-provider ships no type declarations: loaded by name, typed by ProviderInstance above.
const OIDC_PROVIDER: string = 'oidc-provider';

const b64url = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

function signJwt(claims: Claims, key: KeyObject, kid: string): string {
  const input = `${b64url({ alg: 'RS256', typ: 'JWT', kid })}.${b64url(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

export async function startTestProvider(opts: { redirectUris: string[]; idTokenTtlS?: number }): Promise<TestProvider> {
  const { default: Provider } = (await import(OIDC_PROVIDER)) as { default: new (issuer: string, config: object) => ProviderInstance };
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key';
  const people = new Map<string, Claims>();
  let subject: string | null = null;
  let tamper: ((claims: Claims) => Claims) | null = null;
  const clientId = 'attendance';
  const clientSecret = 'client-secret-of-the-attendance-cloud';

  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: opts.redirectUris, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] },
    findAccount: (_ctx: unknown, id: string) => (people.has(id) ? { accountId: id, claims: () => ({ ...people.get(id), sub: id }) } : undefined),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups', 'student_id'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    ttl: { IdToken: opts.idTokenTtlS ?? 60, AuthorizationCode: 60, AccessToken: 300, Interaction: 300, Session: 300, Grant: 300 },
    cookies: { keys: ['cookie-key-of-the-test-provider'] },
  });
  provider.use(async (ctx, next) => {
    const interaction = /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (!interaction) {
      await next();
      const body = ctx.body as { id_token?: string } | undefined;
      if (ctx.path === '/token' && tamper && body?.id_token) {
        const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1]!, 'base64url').toString()) as Claims;
        ctx.body = { ...body, id_token: signJwt(tamper(claims), privateKey, kid) };
        tamper = null;
      }
      return;
    }
    if (!subject) throw new Error('the test chose nobody to sign in (signInAs)');
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const grant = new provider.Grant({ accountId: subject, clientId: details.params.client_id! });
    grant.addOIDCScope(details.params.scope!);
    const grantId = await grant.save();
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: subject }, consent: { grantId } }, { mergeWithLastSubmission: false }));
  });
  server.on('request', provider.callback());

  return {
    issuer,
    clientId,
    clientSecret,
    cloudEnv: (publicUrl) => ({ ATTENDANCE_PUBLIC_URL: publicUrl, ATTENDANCE_OIDC_ISSUER: issuer, ATTENDANCE_OIDC_CLIENT_ID: clientId, ATTENDANCE_OIDC_CLIENT_SECRET: clientSecret }),
    people,
    signInAs(s) {
      subject = s;
    },
    tamperNextIdToken(change) {
      tamper = change;
    },
    async authorize(authorizationUrl) {
      const jar = new Map<string, string>();
      let url = new URL(authorizationUrl);
      for (let hop = 0; hop < 10; hop++) {
        const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const eq = pair!.indexOf('=');
          jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
        }
        const location = res.headers.get('location');
        if (!location) throw new Error(`the provider answered ${res.status} at ${url.pathname}: ${await res.text()}`);
        url = new URL(location, url);
        if (url.origin !== issuer) return url;
      }
      throw new Error('the provider redirected too often');
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
