/**
 * Access tokens that can be revoked: every token carries exp, iat, sub and the account's token
 * version; a password change, a role change, deactivation and "log out everywhere" end the
 * account's earlier tokens at once; the last active admin stays.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignJWT, type JWTPayload } from 'jose';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { AUDIENCE, ISSUER } from '../../cloud/auth/jwt.js';
import { loadOrCreateSigningKey } from '../../cloud/auth/keys.js';
import { STANDING_TTL_MS } from '../../cloud/auth/account-standings.js';
import { LastAdminError } from '../../cloud/store/accounts.js';

let h: CloudHarness;
beforeEach(async () => {
  h = await createCloudHarness();
});
afterEach(() => h.close());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const me = (auth: Record<string, string>) => h.http().get('/api/v1/auth/me').set(auth);
const login = (email: string, password: string) => h.http().post('/api/v1/auth/token').send({ email, password });

/** A token signed with the instance's own key, with exactly the claims given. */
async function handSigned(claims: JWTPayload): Promise<string> {
  const key = loadOrCreateSigningKey(h.cloud.config.jwtSecretFile);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
}

function claimsFor(id: string, role: string): JWTPayload {
  const iat = Math.floor(h.clock() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: id, role, ver: 0, iat, exp: iat + 600 };
}

async function expectRevoked(auth: Record<string, string>) {
  const r = await me(auth);
  expect(r.status).toBe(401);
  expect(r.body.error.code).toBe('invalid_token');
  expect(r.headers['www-authenticate']).toContain('error="invalid_token"');
}

async function auditActions(target: string) {
  return (await h.store.db.selectFrom('audit_log').select(['action', 'actor_id']).where('target', '=', target).orderBy('id').execute()).map((a) => a.action);
}

describe('token claims', () => {
  it('a token without exp is refused, and so is one without iat, sub or ver', async () => {
    const u = await h.user('student');
    const complete = claimsFor(u.id, 'student');
    expect((await me(bearer(await handSigned(complete)))).status).toBe(200);
    for (const claim of ['exp', 'iat', 'sub', 'ver']) {
      const { [claim]: _left, ...rest } = complete;
      const r = await me(bearer(await handSigned(rest)));
      expect(r.status, claim).toBe(401);
      expect(r.body.error).toMatchObject({ code: 'invalid_token', message: `token has no ${claim} claim` });
    }
  });

  it('a token carrying an earlier token version is refused', async () => {
    const u = await h.user('student');
    await h.store.accounts.revokeTokens(u.id);
    const stale = bearer(await handSigned(claimsFor(u.id, 'student')));
    expect((await me(stale)).body.error.message).toBe('token revoked');
    expect((await me(bearer(await handSigned({ ...claimsFor(u.id, 'student'), ver: 1 })))).status).toBe(200);
  });

  it('a token of an account that no longer exists is refused', async () => {
    const u = await h.user('student');
    await h.store.db.deleteFrom('users').where('id', '=', u.id).execute();
    expect((await me(u.auth)).body.error.message).toBe('token revoked');
  });
});

describe('role changes', () => {
  it('a demoted account loses its rights at once', async () => {
    const admin = await h.user('admin');
    const teacher = await h.user('teacher');
    expect((await h.http().get('/api/v1/teacher/courses').set(teacher.auth)).status).toBe(200);
    const demoted = await h.http().put(`/api/v1/admin/users/${teacher.id}/role`).set(admin.auth).send({ role: 'student' });
    expect(demoted.status).toBe(200);
    expect(demoted.body).toMatchObject({ id: teacher.id, role: 'student' });
    const old = await h.http().get('/api/v1/teacher/courses').set(teacher.auth);
    expect(old.status).toBe(401);
    expect(old.body.error.message).toBe('token revoked');
    const again = await login(teacher.email, teacher.password);
    expect((await h.http().get('/api/v1/teacher/courses').set(bearer(again.body.access_token))).status).toBe(403);
    expect(await auditActions(teacher.id)).toEqual(['user.role_change']);
  });

  it('setting the role an account already has changes nothing', async () => {
    const admin = await h.user('admin');
    const teacher = await h.user('teacher');
    expect((await h.http().put(`/api/v1/admin/users/${teacher.id}/role`).set(admin.auth).send({ role: 'teacher' })).status).toBe(200);
    expect((await me(teacher.auth)).status).toBe(200);
    expect(await auditActions(teacher.id)).toEqual([]);
  });
});

describe('deactivation', () => {
  it("a deactivated account's tokens stop working and it cannot log in until reactivated", async () => {
    const admin = await h.user('admin');
    const s = await h.user('student');
    expect((await me(s.auth)).status).toBe(200);
    const off = await h.http().post(`/api/v1/admin/users/${s.id}/deactivate`).set(admin.auth);
    expect(off.status).toBe(200);
    expect(off.body.deactivated_at).toBe(h.clock());
    await expectRevoked(s.auth);
    const refused = await login(s.email, s.password);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_credentials');
    const listed = await h.http().get('/api/v1/admin/users?role=student').set(admin.auth);
    expect(listed.body.items.find((u: { id: string }) => u.id === s.id).deactivated_at).toBe(h.clock());

    const on = await h.http().post(`/api/v1/admin/users/${s.id}/reactivate`).set(admin.auth);
    expect(on.body.deactivated_at).toBeNull();
    await expectRevoked(s.auth);
    const back = await login(s.email, s.password);
    expect(back.status).toBe(200);
    expect((await me(bearer(back.body.access_token))).status).toBe(200);
    expect(await auditActions(s.id)).toEqual(['user.deactivate', 'user.reactivate']);
  });

  it('answers 404 for an account that does not exist', async () => {
    const admin = await h.user('admin');
    const r = await h.http().post('/api/v1/admin/users/0192f3a0-7c00-7000-8000-00000000ffff/deactivate').set(admin.auth);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });
});

describe('the last admin', () => {
  it('the last admin cannot be deactivated or demoted', async () => {
    const admin = await h.user('admin');
    // The harness's cloud made its own first admin; take it out of the way.
    const first = await h.store.accounts.findByEmail('admin@localhost');
    expect((await h.http().post(`/api/v1/admin/users/${first!.id}/deactivate`).set(admin.auth)).status).toBe(200);
    for (const req of [
      h.http().post(`/api/v1/admin/users/${admin.id}/deactivate`).set(admin.auth),
      h.http().put(`/api/v1/admin/users/${admin.id}/role`).set(admin.auth).send({ role: 'teacher' }),
    ]) {
      const r = await req;
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('last_admin');
    }
    expect((await me(admin.auth)).body).toMatchObject({ role: 'admin', deactivated_at: null });
    expect(await auditActions(admin.id)).toEqual([]);
  });

  it('two admins demoting each other at once leave one admin', async () => {
    const a = await h.user('admin');
    const b = await h.user('admin');
    const first = await h.store.accounts.findByEmail('admin@localhost');
    await h.http().post(`/api/v1/admin/users/${first!.id}/deactivate`).set(a.auth).expect(200);
    // Straight at the repository: through HTTP the first demotion would already revoke the other's token.
    const outcomes = await Promise.allSettled([h.store.accounts.change(b.id, { role: 'teacher' }), h.store.accounts.change(a.id, { role: 'teacher' })]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')!.reason).toBeInstanceOf(LastAdminError);
    const admins = await h.store.db.selectFrom('users').select('id').where('role', '=', 'admin').where('deactivated_at', 'is', null).execute();
    expect(admins).toHaveLength(1);
  });
});

describe('password change', () => {
  it('changing the password ends the other sessions and keeps the caller signed in', async () => {
    const s = await h.user('student');
    h.clock.advance(1000); // a second token with a different iat
    const other = bearer((await login(s.email, s.password)).body.access_token);
    const r = await h.http().post('/api/v1/auth/password').set(s.auth).send({ current_password: s.password, new_password: 'a-new-long-passphrase' });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toMatchObject({ token_type: 'bearer', expires_in: 86_400 });
    await expectRevoked(s.auth);
    await expectRevoked(other);
    expect((await me(bearer(r.body.access_token))).status).toBe(200);
    expect((await login(s.email, s.password)).status).toBe(401);
    expect((await login(s.email, 'a-new-long-passphrase')).status).toBe(200);
    expect(await auditActions(s.id)).toEqual(['account.password_change']);
  });

  it('refuses a wrong current password (403) and a new password that breaks the rules (400)', async () => {
    const s = await h.user('student');
    const wrong = await h.http().post('/api/v1/auth/password').set(s.auth).send({ current_password: 'not-my-password', new_password: 'a-new-long-passphrase' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('wrong_password');
    const weak = await h.http().post('/api/v1/auth/password').set(s.auth).send({ current_password: s.password, new_password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.details[0].path).toBe('new_password');
    expect((await me(s.auth)).status).toBe(200);
    expect((await login(s.email, s.password)).status).toBe(200);
  });
});

describe('log out everywhere', () => {
  it('ends every session of the account, the calling one included', async () => {
    const s = await h.user('student');
    const other = await h.user('student');
    expect((await h.http().post('/api/v1/auth/logout-all').set(s.auth)).status).toBe(204);
    await expectRevoked(s.auth);
    expect((await me(other.auth)).status).toBe(200);
    const fresh = await login(s.email, s.password);
    expect((await me(bearer(fresh.body.access_token))).status).toBe(200);
    expect(await auditActions(s.id)).toEqual(['account.logout_all']);
  });
});

describe('the standing cache', () => {
  it('reads an account at most once per lifetime, and sees a change made by another instance within it', async () => {
    const s = await h.user('student');
    const accounts = h.store.accounts;
    const standings = accounts.standings.bind(accounts);
    let reads = 0;
    accounts.standings = (ids) => {
      reads++;
      return standings(ids);
    };
    for (let i = 0; i < 5; i++) expect((await me(s.auth)).status).toBe(200);
    expect(reads).toBe(1);
    // Another instance raises the version: no event reaches this one, so its cache answers until it expires.
    await h.store.db.updateTable('users').set({ token_version: 1 }).where('id', '=', s.id).execute();
    expect((await me(s.auth)).status).toBe(200);
    h.clock.advance(STANDING_TTL_MS);
    await expectRevoked(s.auth);
    expect(reads).toBe(2);
  });

  it('reads the accounts of a burst of requests in one query', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => h.user('student')));
    h.clock.advance(STANDING_TTL_MS); // what creating them cached has expired
    const accounts = h.store.accounts;
    const standings = accounts.standings.bind(accounts);
    const asked: string[][] = [];
    accounts.standings = (ids) => {
      asked.push([...ids]);
      return standings(ids);
    };
    try {
      const answers = await Promise.all(users.flatMap((u) => [me(u.auth), me(u.auth)]));
      expect(answers.map((a) => a.status)).toEqual(new Array(12).fill(200));
      expect(asked.flat().sort()).toEqual(users.map((u) => u.id).sort()); // each account read once
      expect(asked.length).toBeLessThan(users.length);
    } finally {
      accounts.standings = standings;
    }
  });
});
