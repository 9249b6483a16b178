/**
 * GET /api/v1/admin/users: admins search accounts by a part of the name or e-mail (any case, with
 * LIKE's wildcards taken literally), narrow them to one role and page through them with the total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness;
let admin: Awaited<ReturnType<CloudHarness['user']>>;

const list = (query: Record<string, string | number> = {}, who = admin) => h.http().get('/api/v1/admin/users').query(query).set(who.auth);
const emails = async (query: Record<string, string | number>) => {
  const r = await list(query);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { emails: r.body.items.map((u: { email: string }) => u.email), total: r.body.total };
};

beforeAll(async () => {
  h = await createCloudHarness();
  admin = await h.user('admin', 'ada');
  for (const [email, full_name, role] of [
    ['jo.mueller@uni.example', 'Jo Müller', 'student'], ['max_power@uni.example', 'Max Power', 'student'],
    ['maxine@uni.example', 'Maxine Teach', 'teacher'], ['percent@uni.example', '100% Sure', 'student'],
  ] as const) {
    expect((await h.store.accounts.create({ email, full_name, password: 'long-enough-pw', role }, h.clock())).email).toBe(email);
  }
});
afterAll(() => h?.close());

describe('account search', () => {
  it('finds accounts by a part of the e-mail or the name, in any case', async () => {
    expect(await emails({ q: 'MAX' })).toEqual({ emails: ['max_power@uni.example', 'maxine@uni.example'], total: 2 });
    expect(await emails({ q: 'müller' })).toEqual({ emails: ['jo.mueller@uni.example'], total: 1 });
    expect(await emails({ q: 'teach' })).toEqual({ emails: ['maxine@uni.example'], total: 1 });
    expect(await emails({ q: 'nobody' })).toEqual({ emails: [], total: 0 });
    expect((await list({ q: 'max' })).body.timezone).toBe(h.deps.settings.timezone);
  });

  it('takes % and _ literally', async () => {
    expect(await emails({ q: '%' })).toEqual({ emails: ['percent@uni.example'], total: 1 });
    expect(await emails({ q: 'x_p' })).toEqual({ emails: ['max_power@uni.example'], total: 1 });
  });

  it('narrows to a role and pages with the total of all matches', async () => {
    expect(await emails({ q: 'max', role: 'teacher' })).toEqual({ emails: ['maxine@uni.example'], total: 1 });
    const all = await emails({});
    // The five made here, and any the cloud made for itself at start.
    expect(all.total).toBe(all.emails.length);
    expect(all.total).toBeGreaterThanOrEqual(5);
    const p1 = await emails({ limit: 2, offset: 0 });
    const p3 = await emails({ limit: 2, offset: 4 });
    expect(p1).toEqual({ emails: all.emails.slice(0, 2), total: all.total });
    expect(p3).toEqual({ emails: all.emails.slice(4, 6), total: all.total });
    expect(await emails({ q: '   ' })).toEqual(all);
  });

  it('refuses a bad query with 400 and non-admins with 401 or 403', async () => {
    for (const query of [{ q: 'x'.repeat(201) }, { role: 'janitor' }, { limit: 0 }, { offset: -1 }] as Array<Record<string, string | number>>) {
      const r = await list(query);
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error.code).toBe('validation_error');
    }
    expect((await h.http().get('/api/v1/admin/users').query({ q: 'max' })).status).toBe(401);
    expect((await list({ q: 'max' }, await h.user('teacher'))).status).toBe(403);
  });
});
