/**
 * GET /api/v1/admin/audit: admins read what was changed, newest first, narrowed by action, actor
 * (id or e-mail), target and time, a page at a time; nobody else may read it, and bad filters
 * are a 400 that says which.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness;
let admin: Awaited<ReturnType<CloudHarness['user']>>;
let other: Awaited<ReturnType<CloudHarness['user']>>;
const made: string[] = [];

const audit = (query: Record<string, string | number> = {}, who = admin) => h.http().get('/api/v1/admin/audit').query(query).set(who.auth);

beforeAll(async () => {
  h = await createCloudHarness({ env: { ATTENDANCE_TIMEZONE: 'Europe/Berlin' } });
  admin = await h.user('admin', 'ada');
  other = await h.user('admin', 'grace');
  // Three accounts made by ada, a minute apart; grace changes the role of the last one.
  for (const name of ['one', 'two', 'three']) {
    const r = await h.http().post('/api/v1/admin/users').set(admin.auth).send({ email: `${name}@uni.example`, full_name: name, password: 'long-enough-pw', role: 'student' });
    expect(r.status).toBe(201);
    made.push(r.body.id);
    h.clock.advance(60_000);
  }
  expect((await h.http().put(`/api/v1/admin/users/${made[2]}/role`).set(other.auth).send({ role: 'teacher' })).status).toBe(200);
});
afterAll(() => h?.close());

describe('audit log', () => {
  it('lists every entry newest first with the actor, the action, the target and the details', async () => {
    const r = await audit();
    expect(r.status).toBe(200);
    expect(r.body.items.map((e: { action: string }) => e.action)).toEqual(['user.role_change', 'user.create', 'user.create', 'user.create']);
    const [change, lastCreate] = r.body.items;
    expect(change).toMatchObject({ actor: { id: other.id, email: other.email, full_name: 'grace' }, target: made[2], details: { from: 'student', to: 'teacher' } });
    expect(lastCreate).toMatchObject({ actor: { id: admin.id, email: admin.email }, target: made[2], details: { role: 'student' } });
    expect(Date.parse(change.at)).toBe(h.clock());
    expect(r.body.next).toBeNull();
    expect(r.body.actions).toEqual(['user.create', 'user.role_change']);
  });

  it('filters by action, by actor id or e-mail, by target and by time', async () => {
    const actions = (q: Record<string, string>) => audit(q).then((r) => { expect(r.status, JSON.stringify(r.body)).toBe(200); return r.body.items.map((e: { action: string; target: string }) => `${e.action} ${e.target}`); });
    expect(await actions({ action: 'user.role_change' })).toEqual([`user.role_change ${made[2]}`]);
    expect(await actions({ actor: other.email.toUpperCase() })).toEqual([`user.role_change ${made[2]}`]);
    expect(await actions({ actor: admin.id })).toHaveLength(3);
    expect(await actions({ target: made[0]! })).toEqual([`user.create ${made[0]}`]);
    // The second account was made one minute after the first: [start + 1 min, start + 2 min).
    const start = h.clock() - 3 * 60_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(await actions({ from: iso(start + 60_000), to: iso(start + 120_000) })).toEqual([`user.create ${made[1]}`]);
    // The same instant written in another offset is the same instant.
    const inBerlinSummer = (ms: number) => new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    expect(await actions({ from: inBerlinSummer(start + 120_000) })).toEqual([`user.role_change ${made[2]}`, `user.create ${made[2]}`]);
    expect(await actions({ action: 'user.deactivate' })).toEqual([]);
  });

  it('takes dates in the institution\'s time zone, the end date with its whole day', async () => {
    // 23:30 UTC on 7 September is already 8 September in Berlin (UTC+2).
    await h.store.audit.record({ at: Date.UTC(2026, 8, 7, 23, 30), actorId: null, action: 'session.end', target: 'late' });
    const late = (q: Record<string, string>) => audit({ action: 'session.end', ...q }).then((r) => { expect(r.status, JSON.stringify(r.body)).toBe(200); return r.body.items.length; });
    expect(await late({ from: '2026-09-08', to: '2026-09-08' })).toBe(1);
    expect(await late({ to: '2026-09-07' })).toBe(0);
    expect(await late({ from: '2026-09-07', to: '2026-09-07' })).toBe(0);
    expect(await late({ from: '2026-09-07T23:30:00Z', to: '2026-09-07T23:30:01Z' })).toBe(1);
    const r = await audit({ action: 'session.end' });
    expect(r.body.timezone).toBe('Europe/Berlin');
    expect(r.body.items[0]).toMatchObject({ actor: null, target: 'late', details: {} });
  });

  it('pages with a cursor: no entry twice, none left out', async () => {
    const all = (await audit()).body.items.map((e: { id: number }) => e.id);
    expect(all.length).toBeGreaterThan(3);
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const r = await audit({ limit: 2, ...(before ? { before } : {}) });
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((e: { id: number }) => e.id));
      if (r.body.next === null) break;
      expect(r.body.next).toBe(r.body.items[1].id);
      before = r.body.next;
    }
    expect(seen).toEqual(all);
  });

  it('answers a bad filter with 400 and the field at fault', async () => {
    for (const [query, field] of [
      [{ limit: 0 }, 'limit'], [{ limit: 201 }, 'limit'], [{ limit: 'many' }, 'limit'],
      [{ from: 'yesterday' }, 'from'], [{ to: '2026-09-07T08:00:00' }, 'to'],
      [{ from: '2026-09-08T00:00:00Z', to: '2026-09-07T00:00:00Z' }, 'to'], [{ from: '2026-09-08', to: '2026-09-07' }, 'to'],
      [{ from: '2026-02-30' }, 'from'], [{ to: '7.9.2026' }, 'to'], [{ to: '0000-01-01' }, 'to'],
      [{ actor: 'not an id' }, 'actor'], [{ action: 'DROP TABLE' }, 'action'], [{ before: -1 }, 'before'],
    ] as const) {
      const r = await audit(query as Record<string, string | number>);
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error.code).toBe('validation_error');
      expect(r.body.error.details.map((d: { path: string }) => d.path), JSON.stringify(query)).toContain(field);
    }
    const unknown = await audit({ actor: 'nobody@uni.example' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_actor');
  });

  it('is for admins only: 401 without a token, 403 for teachers and students', async () => {
    expect((await h.http().get('/api/v1/admin/audit')).status).toBe(401);
    for (const role of ['teacher', 'student'] as const) {
      const r = await audit({}, await h.user(role));
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
  });
});
