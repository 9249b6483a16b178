/**
 * /api/v1/teacher/biometric/devices: staff approve or revoke students' enrolled devices. A
 * student's second device only counts once a person has looked at it, which is what stops a
 * classmate's phone being added quietly to an account (docs/api.md, "One phone, one student"). Teachers act on
 * students enrolled in their courses; admins on everyone. A student may revoke an own device
 * (a lost phone), never approve one. Every decision is audited.
 */
import { z } from 'zod';
import { conflict, forbidden, notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import type { Principal } from '../../auth/jwt.js';
import { id, idParams } from '../schemas.js';
import type { StoredCredential } from '../../store/schema.js';
import { deviceOut, deviceView } from './biometric-schemas.js';

const STAFF = ['teacher', 'admin'] as const;
const STUDENT = ['student'] as const;
const TAG = 'biometric';

const staffDeviceOut = deviceOut.extend({ student_email: z.string(), student_name: z.string() });

export function biometricDeviceRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock } = deps;

  /** A teacher acts for the students enrolled in one of the teacher's courses; an admin for everyone. */
  async function deviceForStaff(user: Principal, deviceId: string): Promise<StoredCredential> {
    const device = await store.webauthn.credentialById(deviceId);
    if (!device) throw notFound('device');
    if (user.role !== 'admin') {
      if (!(await store.webauthn.isStudentTaughtBy(device.student_id, user.id))) throw forbidden('this student is not enrolled in any of your courses');
    }
    return device;
  }

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/biometric/devices', tag: TAG, auth: STAFF, summary: "Students' enrolled devices, pending approval by default",
      description: 'Teachers see the students of their courses, admins everyone. A pending device is a second (or later) device of a student; approve it only after checking with the student in person.',
      query: z.object({ status: z.enum(['pending', 'active', 'revoked']).default('pending'), student_id: id.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
      response: z.object({ items: z.array(staffDeviceOut) }),
    },
    async ({ user, query }) => {
      const rows = await store.webauthn.credentialsForStaff({
        status: query.status, limit: query.limit, ...(query.student_id ? { studentId: query.student_id } : {}), ...(user.role !== 'admin' ? { taughtBy: user.id } : {}),
      });
      return { items: rows.map((r) => ({ ...deviceView(r), student_email: r.email, student_name: r.full_name })) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/teacher/biometric/devices/:id/approve', tag: TAG, auth: STAFF, summary: "Approve a student's pending device",
      params: idParams, body: z.object({}).strict(), response: deviceOut, errors: [[403, 'forbidden'], [404, 'not_found'], [409, 'device_not_pending']],
    },
    async ({ user, params }) => {
      const device = await deviceForStaff(user, params.id);
      if (device.status !== 'pending') throw conflict('device_not_pending', `the device is ${device.status}`);
      const now = clock();
      await store.transaction(async (tx) => {
        await tx.webauthn.decideCredential(device.id, 'active', user.id, now);
        await tx.audit.record({ at: now, actorId: user.id, action: 'biometric.approve', target: device.id, details: { student_id: device.student_id } });
      });
      deps.events.emit('device.changed', { student_id: device.student_id });
      return deviceView({ ...device, status: 'active', decided_by: user.id, decided_at: now });
    },
  );

  /** Stops the device and audits who did it and why, in one transaction. */
  async function revoke(device: StoredCredential, actorId: string, reason: string) {
    if (device.status === 'revoked') throw conflict('device_revoked', 'the device is already revoked');
    const now = clock();
    await store.transaction(async (tx) => {
      await tx.webauthn.decideCredential(device.id, 'revoked', actorId, now);
      await tx.audit.record({ at: now, actorId, action: 'biometric.revoke', target: device.id, details: { student_id: device.student_id, reason } });
    });
    deps.events.emit('device.changed', { student_id: device.student_id });
    return deviceView({ ...device, status: 'revoked', decided_by: actorId, decided_at: now });
  }

  routes.add(
    {
      method: 'post', path: '/api/v1/student/biometric/devices/:id/revoke', tag: TAG, auth: STUDENT, summary: 'Revoke one of my devices (a lost or replaced phone)',
      description: 'The device can no longer verify, and its check-in key no longer counts. Only your own devices: any other id is answered 404 like an unknown one. A revoked device stays revoked (enrol the phone again as a new device, which then waits for approval). Audited like a revocation by staff.',
      params: idParams, body: z.object({ reason: z.string().trim().min(3).max(500).optional() }).strict(), response: deviceOut,
      errors: [[404, 'not_found'], [409, 'device_revoked']],
    },
    async ({ user, params, body }) => {
      const device = await store.webauthn.credentialById(params.id);
      if (!device || device.student_id !== user.id) throw notFound('device');
      return revoke(device, user.id, body.reason ?? 'revoked by the student');
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/teacher/biometric/devices/:id/revoke', tag: TAG, auth: STAFF, summary: 'Revoke a device (lost phone, refused approval, suspected cloning)',
      description: 'The device can no longer verify. Its public key is kept so the same credential cannot be enrolled again.',
      params: idParams, body: z.object({ reason: z.string().trim().min(3).max(500) }).strict(), response: deviceOut,
      errors: [[403, 'forbidden'], [404, 'not_found'], [409, 'device_revoked']],
    },
    async ({ user, params, body }) => revoke(await deviceForStaff(user, params.id), user.id, body.reason),
  );
}
