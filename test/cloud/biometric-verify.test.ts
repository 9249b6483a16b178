/**
 * Verification at the end of a session (docs/api.md): a student's own enrolled phone, unlocked by its
 * owner, signs a challenge bound to this session. Every way it can go wrong is refused with its
 * own code, and a refused attempt records nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { SoftwarePhone } from '../fakes/authenticator.js';
import { ORIGIN, endSession, enrol, phonesFor, sendAssertion, startSession, verify, verifyOptions } from './biometric-fixture.js';

let h: CloudHarness;
let f: CourseFixture;
let phones: SoftwarePhone[];
let sid: string;

async function verificationsOf(studentId: string): Promise<number> {
  const rows = await h.store.db.withTables<{ verifications: { student_id: string } }>().selectFrom('verifications').select('student_id').where('student_id', '=', studentId).execute();
  return rows.length;
}

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 3, code: 'BIO1', policy: { require_biometric: true } });
  phones = await phonesFor(h, f.students);
  sid = await startSession(h, f);
  h.clock.advance(50 * 60_000);
});
afterAll(() => h.close());

describe('the happy path', () => {
  it("accepts the student's own phone with user verification and records the verdict", async () => {
    const [alice] = f.students;
    const options = await verifyOptions(h, alice!, sid);
    expect(options.userVerification).toBe('required');
    expect(options.rpId).toBe('attendance.uni.example');
    expect(options.allowCredentials?.map((c) => c.id)).toEqual(phones[0]!.credentialIds());
    const res = await sendAssertion(h, alice!, sid, phones[0]!.get(options, ORIGIN));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'verified', session_id: sid, counts: false });
    expect(Date.parse(res.body.counts_if_session_ends_by)).toBe(h.clock.now + 10 * 60_000);
    const row = await h.store.db.withTables<{ verifications: { student_id: string; session_id: string; uv: number; counter: number } }>()
      .selectFrom('verifications').selectAll().where('student_id', '=', alice!.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ session_id: sid, uv: 1, counter: 1 });
  });
});

describe('refusals, each with its own code', () => {
  it('a challenge this server never issued: challenge_unknown', async () => {
    const s = f.students[1]!;
    const options = await verifyOptions(h, s, sid);
    const res = await sendAssertion(h, s, sid, phones[1]!.get(options, ORIGIN, { challenge: Buffer.alloc(32, 7).toString('base64url') }));
    expect([res.status, res.body.error.code]).toEqual([400, 'challenge_unknown']);
  });

  it('the same challenge twice: challenge_used, even though the first answer was accepted', async () => {
    const s = f.students[1]!;
    const options = await verifyOptions(h, s, sid);
    expect((await sendAssertion(h, s, sid, phones[1]!.get(options, ORIGIN))).status).toBe(200);
    const replay = await sendAssertion(h, s, sid, phones[1]!.get(options, ORIGIN));
    expect([replay.status, replay.body.error.code]).toEqual([409, 'challenge_used']);
  });

  it("a challenge issued for another session: challenge_mismatch", async () => {
    const other = await setupCourse(h, { students: 0, code: 'BIO1B', policy: { require_biometric: true } });
    await h.http().post(`/api/v1/admin/courses/${other.courseId}/enrollments`).set(other.admin.auth).send({ student_ids: [f.students[1]!.id] });
    const otherSid = await startSession(h, other);
    const options = await verifyOptions(h, f.students[1]!, otherSid);
    const res = await sendAssertion(h, f.students[1]!, sid, phones[1]!.get(options, ORIGIN));
    expect([res.status, res.body.error.code]).toEqual([400, 'challenge_mismatch']);
  });

  it('a challenge answered after it expired: challenge_expired', async () => {
    const s = f.students[1]!;
    const options = await verifyOptions(h, s, sid);
    h.clock.advance(5 * 60_000 + 1);
    const res = await sendAssertion(h, s, sid, phones[1]!.get(options, ORIGIN));
    expect([res.status, res.body.error.code]).toEqual([410, 'challenge_expired']);
  });

  it('an authenticator that did not verify the user: user_verification_required', async () => {
    const before = await verificationsOf(f.students[2]!.id);
    const res = await verify(h, f.students[2]!, sid, phones[2]!, { noUserVerification: true });
    expect([res.status, res.body.error.code]).toEqual([403, 'user_verification_required']);
    expect(await verificationsOf(f.students[2]!.id)).toBe(before);
  });

  it('client data from another origin: origin_mismatch', async () => {
    const res = await verify(h, f.students[2]!, sid, phones[2]!, { origin: 'https://attendance-uni.example' });
    expect([res.status, res.body.error.code]).toEqual([403, 'origin_mismatch']);
  });

  it('a signature for another relying party ID: rp_id_mismatch', async () => {
    const res = await verify(h, f.students[2]!, sid, phones[2]!, { rpId: 'evil.example' });
    expect([res.status, res.body.error.code]).toEqual([403, 'rp_id_mismatch']);
  });

  it('a signature counter that goes backwards: counter_regression, audited', async () => {
    const s = f.students[2]!;
    expect((await verify(h, s, sid, phones[2]!, { signCount: 40 })).status).toBe(200);
    const res = await verify(h, s, sid, phones[2]!, { signCount: 12 });
    expect([res.status, res.body.error.code]).toEqual([403, 'counter_regression']);
    const audit = await h.store.db.selectFrom('audit_log').select('action').where('actor_id', '=', s.id).where('action', '=', 'biometric.counter_regression').execute();
    expect(audit).toHaveLength(1);
    // The stored counter stayed at 40: the same value again is still a regression.
    expect((await verify(h, s, sid, phones[2]!, { signCount: 40 })).body.error.code).toBe('counter_regression');
    expect((await verify(h, s, sid, phones[2]!, { signCount: 41 })).status).toBe(200);
  });

  it("another student's credential on my challenge: credential_not_yours", async () => {
    const bob = f.students[1];
    const options = await verifyOptions(h, bob!, sid);
    // Alice's phone signs Bob's challenge — the proxy-attendance attempt.
    const res = await sendAssertion(h, bob!, sid, phones[0]!.getWith(phones[0]!.credentialIds()[0]!, options, ORIGIN));
    expect([res.status, res.body.error.code]).toEqual([403, 'credential_not_yours']);
  });

  it('a bad signature: signature_invalid', async () => {
    const s = f.students[0]!;
    const options = await verifyOptions(h, s, sid);
    const assertion = phones[0]!.get(options, ORIGIN);
    const sig = Buffer.from(assertion.response.signature, 'base64url');
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
    const res = await sendAssertion(h, s, sid, { ...assertion, response: { ...assertion.response, signature: sig.toString('base64url') } });
    expect([res.status, res.body.error.code]).toEqual([403, 'signature_invalid']);
  });

  it('a second device still waiting for approval: credential_pending', async () => {
    const s = f.students[0]!;
    const second = new SoftwarePhone();
    expect((await enrol(h, s, second)).body.needs_approval).toBe(true);
    const options = await verifyOptions(h, s, sid);
    const res = await sendAssertion(h, s, sid, second.getWith(second.credentialIds()[0]!, options, ORIGIN));
    expect([res.status, res.body.error.code]).toEqual([403, 'credential_pending']);
  });

  it('a session the student is not enrolled in: not_enrolled', async () => {
    const stranger = await h.user('student', 'stranger');
    const res = await h.http().post('/api/v1/student/biometric/verify/options').set(stranger.auth).send({ session_id: sid });
    expect([res.status, res.body.error.code]).toEqual([403, 'not_enrolled']);
  });
});

describe('challenge hoarding', () => {
  it('more than 10 open challenges: too_many_challenges, until they expire', async () => {
    const greedy = await h.user('student', 'greedy');
    await h.http().post(`/api/v1/admin/courses/${f.courseId}/enrollments`).set(f.admin.auth).send({ student_ids: [greedy.id] });
    await phonesFor(h, [greedy]);
    for (let i = 0; i < 10; i++) await verifyOptions(h, greedy, sid);
    const ask = () => h.http().post('/api/v1/student/biometric/verify/options').set(greedy.auth).send({ session_id: sid });
    const res = await ask();
    expect([res.status, res.body.error.code]).toEqual([429, 'too_many_challenges']);
    h.clock.advance(5 * 60_000);
    expect((await ask()).status).toBe(200);
  });
});

describe('device-bound policy', () => {
  it('refuses a synced passkey where the course asks for a device-bound key, accepts it elsewhere', async () => {
    const strict = await setupCourse(h, { students: 1, code: 'BIO2', policy: { require_biometric: true, require_device_bound: true } });
    const synced = await phonesFor(h, strict.students, { synced: true });
    const strictSid = await startSession(h, strict);
    const refused = await verify(h, strict.students[0]!, strictSid, synced[0]!);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'device_bound_required']);

    const put = await h.http().put(`/api/v1/admin/courses/${strict.courseId}/policy`).set(strict.admin.auth).send({ require_device_bound: false });
    expect(put.body.policy.require_device_bound).toBe(false);
    expect((await verify(h, strict.students[0]!, strictSid, synced[0]!)).status).toBe(200);
    await endSession(h, strict, strictSid);
  });

  it('accepts a device-bound key under the device-bound policy', async () => {
    const strict = await setupCourse(h, { students: 1, code: 'BIO3', policy: { require_device_bound: true } });
    const bound = await phonesFor(h, strict.students);
    const strictSid = await startSession(h, strict);
    expect((await verify(h, strict.students[0]!, strictSid, bound[0]!)).status).toBe(200);
  });
});
