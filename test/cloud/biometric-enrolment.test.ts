/**
 * Enrolling phones (docs/api.md §Biometric verification): what is stored (public key, counter, flags — nothing biometric),
 * the refusals of a bad registration, one credential per student, a second device waiting for a
 * teacher's approval, and one phone that cannot be enrolled for two classmates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { SoftwarePhone, WebAuthnClientError } from '../fakes/authenticator.js';
import { ORIGIN, enrol, registerOptions, startSession, verify } from './biometric-fixture.js';

let h: CloudHarness;
let f: CourseFixture;

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 4, code: 'ENR1' });
});
afterAll(() => h.close());

const credentialRows = (studentId: string) =>
  h.store.db.withTables<{ webauthn_credentials: Record<string, unknown> & { student_id: string } }>()
    .selectFrom('webauthn_credentials').selectAll().where('student_id', '=', studentId).execute();

describe('enrolment', () => {
  it('asks for a platform passkey with user verification, and stores only the public side', async () => {
    const alice = f.students[0]!;
    const options = await registerOptions(h, alice);
    expect(options.rp).toEqual({ id: 'attendance.uni.example', name: 'Classroom attendance (test)' });
    expect(options.authenticatorSelection).toMatchObject({ userVerification: 'required', authenticatorAttachment: 'platform' });
    expect(options.attestation).toBe('none');
    // The user handle is the account's UUID bytes: no e-mail or name inside (WebAuthn L2 §14.6.1).
    expect(Buffer.from(options.user.id, 'base64url').toString('hex')).toBe(alice.id.replace(/-/g, ''));

    const phone = new SoftwarePhone();
    const res = await h.http().post('/api/v1/student/biometric/register').set(alice.auth).send({ credential: phone.create(options, ORIGIN), device_name: 'Pixel' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ needs_approval: false, device: { status: 'active', device_name: 'Pixel', backup_eligible: false, backed_up: false, aaguid: '00000000-0000-0000-0000-000000000000' } });

    const [row] = await credentialRows(alice.id);
    expect(Object.keys(row!).sort()).toEqual([
      'aaguid', 'backed_up', 'backup_eligible', 'checkin_key', 'checkin_key_id', 'counter', 'created_at', 'credential_id', 'decided_at', 'decided_by',
      'device_name', 'id', 'last_used_at', 'public_key', 'status', 'student_id', 'transports',
    ]);
    expect(row).toMatchObject({ checkin_key: null, checkin_key_id: null }); // none sent with this registration
    expect(row!.credential_id).toBe(phone.credentialIds()[0]);
    const mine = await h.http().get('/api/v1/student/biometric/devices').set(alice.auth);
    expect(mine.body.items.map((d: { id: string }) => d.id)).toEqual([res.body.device.id]);
  });

  it('records a synced passkey as backup eligible and backed up', async () => {
    const res = await enrol(h, f.students[1]!, new SoftwarePhone({ synced: true }));
    expect(res.body.device).toMatchObject({ backup_eligible: true, backed_up: true, status: 'active' });
  });

  it('refuses a registration without user verification, from another origin, or for another RP ID', async () => {
    const s = f.students[2]!;
    const phone = new SoftwarePhone();
    const noUv = await enrol(h, s, phone, { noUserVerification: true });
    expect([noUv.status, noUv.body.error.code]).toEqual([403, 'user_verification_required']);
    const origin = await enrol(h, s, phone, { origin: 'https://phish.example' });
    expect([origin.status, origin.body.error.code]).toEqual([403, 'origin_mismatch']);
    const rp = await enrol(h, s, phone, { rpId: 'uni.example' });
    expect([rp.status, rp.body.error.code]).toEqual([403, 'rp_id_mismatch']);
    expect(await credentialRows(s.id)).toHaveLength(0);
  });

  it('refuses a registration challenge used twice or answered by another student', async () => {
    const [, , carol, dave] = f.students;
    const options = await registerOptions(h, carol!);
    const stolen = await h.http().post('/api/v1/student/biometric/register').set(dave!.auth).send({ credential: new SoftwarePhone().create(options, ORIGIN) });
    expect([stolen.status, stolen.body.error.code]).toEqual([400, 'challenge_mismatch']);
    const first = await h.http().post('/api/v1/student/biometric/register').set(carol!.auth).send({ credential: new SoftwarePhone().create(options, ORIGIN) });
    expect(first.status).toBe(201);
    const again = await h.http().post('/api/v1/student/biometric/register').set(carol!.auth).send({ credential: new SoftwarePhone().create(options, ORIGIN) });
    expect([again.status, again.body.error.code]).toEqual([409, 'challenge_used']);
  });
});

describe('one phone, one student', () => {
  it("lists classmates' credentials in excludeCredentials, so an enrolled phone refuses a classmate", async () => {
    const [alice, bob] = [await h.user('student', 'alice2'), await h.user('student', 'bob2')];
    const course = await setupCourse(h, { students: 0, code: 'ENR2' });
    await h.http().post(`/api/v1/admin/courses/${course.courseId}/enrollments`).set(course.admin.auth).send({ student_ids: [alice.id, bob.id] });
    const alicesPhone = new SoftwarePhone();
    expect((await enrol(h, alice, alicesPhone)).status).toBe(201);

    const options = await registerOptions(h, bob);
    expect(options.excludeCredentials?.map((c) => c.id)).toContain(alicesPhone.credentialIds()[0]);
    // A real browser / OS answers InvalidStateError here (WebAuthn L2 §6.3.2 step 3).
    expect(() => alicesPhone.create(options, ORIGIN)).toThrow(WebAuthnClientError);
    expect(() => alicesPhone.create(options, ORIGIN)).toThrow(/InvalidStateError/);
  });

  it('refuses to enrol a credential id that already belongs to another student', async () => {
    const [alice, bob] = [f.students[0]!, f.students[3]!];
    const [alicesCredential] = (await credentialRows(alice.id)) as Array<{ credential_id: string }>;
    const forged = await enrol(h, bob, new SoftwarePhone(), { credentialId: alicesCredential!.credential_id, ignoreExclude: true });
    expect([forged.status, forged.body.error.code]).toEqual([409, 'credential_taken']);
  });
});

describe('a second device needs approval', () => {
  it('is pending until the teacher approves it; other teachers cannot; approval is audited', async () => {
    const alice = f.students[0]!;
    const second = new SoftwarePhone();
    const res = await enrol(h, alice, second);
    expect(res.body).toMatchObject({ needs_approval: true, device: { status: 'pending' } });
    const deviceId = res.body.device.id;

    const sid = await startSession(h, f);
    h.clock.advance(60_000);
    const options = await h.http().post('/api/v1/student/biometric/verify/options').set(alice.auth).send({ session_id: sid });
    expect(options.body.options.allowCredentials.map((c: { id: string }) => c.id)).not.toContain(second.credentialIds()[0]);

    const pending = await h.http().get('/api/v1/teacher/biometric/devices').set(f.teacher.auth);
    expect(pending.body.items.map((d: { id: string }) => d.id)).toEqual([deviceId]);
    expect(pending.body.items[0]).toMatchObject({ student_id: alice.id, student_email: alice.email });

    const stranger = await setupCourse(h, { students: 0, code: 'ENR3' });
    const notTheirs = await h.http().post(`/api/v1/teacher/biometric/devices/${deviceId}/approve`).set(stranger.teacher.auth).send({});
    expect([notTheirs.status, notTheirs.body.error.code]).toEqual([403, 'forbidden']);
    expect((await h.http().get('/api/v1/teacher/biometric/devices').set(stranger.teacher.auth)).body.items).toEqual([]);
    const byStudent = await h.http().post(`/api/v1/teacher/biometric/devices/${deviceId}/approve`).set(alice.auth).send({});
    expect(byStudent.status).toBe(403);

    const approved = await h.http().post(`/api/v1/teacher/biometric/devices/${deviceId}/approve`).set(f.teacher.auth).send({});
    expect(approved.body).toMatchObject({ id: deviceId, status: 'active' });
    const twice = await h.http().post(`/api/v1/teacher/biometric/devices/${deviceId}/approve`).set(f.admin.auth).send({});
    expect([twice.status, twice.body.error.code]).toEqual([409, 'device_not_pending']);
    expect((await verify(h, alice, sid, second)).status).toBe(200);
    const audit = await h.store.db.selectFrom('audit_log').select(['actor_id', 'action']).where('target', '=', deviceId).orderBy('id').execute();
    expect(audit).toEqual([{ actor_id: alice.id, action: 'biometric.enrol' }, { actor_id: f.teacher.id, action: 'biometric.approve' }]);
  });

  it('a revoked device can no longer verify', async () => {
    const bob = f.students[1]!;
    const phone = new SoftwarePhone();
    const enrolled = await enrol(h, bob, phone);
    const admin = f.admin;
    await h.http().post(`/api/v1/teacher/biometric/devices/${enrolled.body.device.id}/approve`).set(admin.auth).send({});
    const revoked = await h.http().post(`/api/v1/teacher/biometric/devices/${enrolled.body.device.id}/revoke`).set(admin.auth).send({ reason: 'phone reported lost' });
    expect(revoked.body.status).toBe('revoked');
    const sid = await startSession(h, await setupCourse(h, { students: 0, code: 'ENR4' }).then(async (c) => {
      await h.http().post(`/api/v1/admin/courses/${c.courseId}/enrollments`).set(c.admin.auth).send({ student_ids: [bob.id] });
      return c;
    }));
    const options = await h.http().post('/api/v1/student/biometric/verify/options').set(bob.auth).send({ session_id: sid });
    const res = await h.http().post('/api/v1/student/biometric/verify').set(bob.auth)
      .send({ session_id: sid, credential: phone.getWith(phone.credentialIds()[0]!, options.body.options, ORIGIN) });
    expect([res.status, res.body.error.code]).toEqual([403, 'credential_revoked']);
  });
});
