/**
 * The fleet list (GET /api/v1/admin/gateways) says when it was answered and in which time zone
 * its times are to be shown, so the console's fleet page can show "updated at" in the
 * institution's time; only admins read it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness;

beforeAll(async () => {
  h = await createCloudHarness({ env: { ATTENDANCE_TIMEZONE: 'Europe/Berlin' } });
});
afterAll(async () => {
  await h?.close();
});

it("answers the cloud's time and the institution's time zone with the gateways", async () => {
  const admin = await h.user('admin');
  h.clock.advance(90 * 60_000);
  const res = await h.http().get('/api/v1/admin/gateways').set(admin.auth);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ items: [], now: '2026-09-07T09:30:00.000Z', timezone: 'Europe/Berlin' });

  const teacher = await h.user('teacher');
  const refused = await h.http().get('/api/v1/admin/gateways').set(teacher.auth);
  expect(refused.status).toBe(403);
  expect(refused.body.items).toBeUndefined();
});
