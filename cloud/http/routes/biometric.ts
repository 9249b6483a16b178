/**
 * /api/v1/student/biometric: enrol a phone as a passkey and verify at the end of a session
 * (docs/api.md, docs/privacy.md). The biometric never leaves the phone: it only unlocks a private key, and
 * the server checks signatures with the enrolled public key (WebAuthn L2 §7.1, §7.2).
 */
import { z } from 'zod';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { HttpError, badRequest, conflict, notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { displayText, id } from '../schemas.js';
import { iso } from '../views.js';
import { policyOf } from '../../store/courses.js';
import { CheckinKeyTakenError } from '../../store/checkins.js';
import { parseCheckinKey } from '../../../shared/checkin.js';
import { WebAuthnRefusal, refusalErrors } from '../../webauthn/refusals.js';
import { finishRegistration, registrationOptions } from '../../webauthn/registration.js';
import { finishVerification, verificationOptions } from '../../webauthn/verification.js';
import { LOCALHOST_WEBAUTHN, windowAround } from '../../webauthn/settings.js';
import { biometricDeviceRoutes } from './biometric-devices.js';
import { authenticationResponseIn, deviceOut, deviceView, registerOptionsOut, registrationResponseIn, verifyOptionsOut, verifyOut } from './biometric-schemas.js';

const STUDENT = ['student'] as const;
const TAG = 'biometric';

/** Runs a ceremony step, answering a WebAuthn refusal with its own status and code. */
async function ceremony<T>(fn: () => Promise<T>, onRefusal?: (r: WebAuthnRefusal) => Promise<void>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof WebAuthnRefusal)) throw e;
    await onRefusal?.(e);
    throw new HttpError(e.status, e.code, e.message);
  }
}

export function biometricRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, verifiedLookup, logger } = deps;
  const settings = deps.webauthn ?? LOCALHOST_WEBAUTHN;
  const log = logger.child({ module: 'biometric' });

  async function studentOf(userId: string) {
    const s = await store.accounts.get(userId);
    if (!s) throw notFound('student');
    return { id: s.id, email: s.email, full_name: s.full_name };
  }

  /** The session, if the student may verify for it now: enrolled, and its window not closed. */
  async function verifiableSession(sessionId: string, studentId: string, now: number) {
    const session = await store.sessions.get(sessionId);
    if (!session) throw notFound('session');
    const course = await store.courses.get(session.course_id);
    if (!course) throw notFound('course');
    if (!(await store.courses.isEnrolled(course.id, studentId))) throw new HttpError(403, 'not_enrolled', 'you are not enrolled in the course of this session');
    if (session.ended_at !== null && now > windowAround(session.ended_at, settings.window).to) {
      throw conflict('verification_window_closed', 'the verification window of this session has closed');
    }
    return { session, course };
  }

  routes.add(
    {
      method: 'post', path: '/api/v1/student/biometric/register/options', tag: TAG, auth: STUDENT, summary: 'Step 1 of enrolment: get options to create a passkey on this phone',
      description: 'Returns PublicKeyCredentialCreationOptionsJSON with a single-use challenge (expires_at). Pass `options` to `navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)})` (or the Android Credential Manager / iOS ASAuthorization passkey API). User verification is required, so the phone asks for its fingerprint, face or PIN unlock; the biometric stays on the phone. `excludeCredentials` lists your own and your classmates\' devices: a phone that already holds one of them refuses to enrol again (InvalidStateError) — one phone, one student.',
      body: z.object({}).strict(), response: registerOptionsOut, errors: refusalErrors('too_many_challenges'),
    },
    async ({ user }) => {
      const now = clock();
      const student = await studentOf(user.id);
      const options = await ceremony(() => registrationOptions(store.webauthn, settings, student, now));
      return { options, expires_at: iso(now + settings.challengeTtlS * 1000)! };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/student/biometric/register', tag: TAG, auth: STUDENT, status: 201, summary: 'Step 2 of enrolment: send the new passkey',
      description: 'Send `credential.toJSON()` of the created credential. The first device of an account is active at once; any further device is `pending` until a teacher or an administrator approves it (`needs_approval`). Stored: the public key, signature counter, AAGUID and backup flags — never biometric data. `checkin_key` (optional) is the public half of the P-256 check-in key the app generated in the phone\'s secure hardware, base64url of its SPKI DER: the gateway in the room witnesses the phone with it (docs/api.md, "Proof of proximity"). It is bound to this device and to you; only a new registration replaces it, and revoking the device revokes it. Refused: `checkin_key_invalid` (not a P-256 SPKI), `checkin_key_taken` (another student\'s device holds it); nothing is stored then.',
      body: z.object({ credential: registrationResponseIn, device_name: displayText(100).optional(), checkin_key: z.string().max(512).optional() }).strict(),
      response: z.object({ device: deviceOut, needs_approval: z.boolean() }),
      errors: [[400, 'checkin_key_invalid'], [409, 'checkin_key_taken'], ...refusalErrors('client_data_invalid', 'response_malformed', 'challenge_unknown', 'challenge_mismatch', 'challenge_used', 'challenge_expired', 'origin_mismatch', 'rp_id_mismatch', 'user_presence_required', 'user_verification_required', 'attestation_invalid', 'credential_exists', 'credential_taken')],
    },
    async ({ user, body }) => {
      const now = clock();
      const parsedKey = body.checkin_key === undefined ? null : parseCheckinKey(body.checkin_key);
      if (parsedKey && !parsedKey.ok) throw badRequest('checkin_key_invalid', parsedKey.reason);
      const checkinKey = parsedKey ? { spki: parsedKey.value.spki, keyId: parsedKey.value.keyId } : null;
      const student = await studentOf(user.id);
      let credential;
      try {
        ({ credential } = await ceremony(
          () => finishRegistration(store, settings, student, body.credential as RegistrationResponseJSON, { name: body.device_name ?? null, checkinKey }, now),
          async (r) => log.info({ student_id: user.id, refusal: r.code }, 'enrolment refused'),
        ));
      } catch (e) {
        if (!(e instanceof CheckinKeyTakenError)) throw e;
        log.warn({ student_id: user.id, key_id: checkinKey?.keyId.toString('hex') }, 'enrolment refused: check-in key held by another student');
        throw conflict('checkin_key_taken', "this check-in key is enrolled with another student's device");
      }
      await store.audit.record({ at: now, actorId: user.id, action: 'biometric.enrol', target: credential.id, details: { status: credential.status, backup_eligible: credential.backup_eligible === 1, checkin_key_id: credential.checkin_key_id } });
      if (credential.checkin_key_id !== null) deps.events.emit('device.changed', { student_id: user.id });
      return { device: deviceView(credential), needs_approval: credential.status === 'pending' };
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/student/biometric/devices', tag: TAG, auth: STUDENT, summary: 'My enrolled devices and their approval status', response: z.object({ items: z.array(deviceOut) }) },
    async ({ user }) => ({ items: (await store.webauthn.credentialsOfStudent(user.id)).map(deviceView) }),
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/student/biometric/verify/options', tag: TAG, auth: STUDENT, summary: 'Step 1 of verification: get a challenge bound to this session',
      description: `Call near the end of the session: a verification counts when it lies between ${settings.window.opensBeforeEndS / 60} minutes before the session's end and ${settings.window.closesAfterEndS / 60} minutes after it. Returns PublicKeyCredentialRequestOptionsJSON whose challenge is bound to you and to this session, single use, valid until expires_at. Pass \`options\` to \`navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)})\`; allowCredentials lists your active devices.`,
      body: z.object({ session_id: id }).strict(), response: verifyOptionsOut,
      errors: [[404, 'not_found'], [403, 'not_enrolled'], [409, 'verification_window_closed'], [409, 'no_active_device'], ...refusalErrors('too_many_challenges')],
    },
    async ({ user, body }) => {
      const now = clock();
      const { session } = await verifiableSession(body.session_id, user.id, now);
      const active = await store.webauthn.credentialsOfStudent(user.id, ['active']);
      if (!active.length) throw conflict('no_active_device', 'enrol this phone first, or wait until your new device is approved');
      const options = await ceremony(() => verificationOptions(store.webauthn, settings, user.id, session.id, active, now));
      return { session_id: session.id, options, expires_at: iso(now + settings.challengeTtlS * 1000)! };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/student/biometric/verify', tag: TAG, auth: STUDENT, summary: 'Step 2 of verification: send the signed challenge',
      description: 'Send `{session_id, credential: credential.toJSON()}` from navigator.credentials.get(). Checked: the challenge (yours, this session, unused, unexpired), origin, RP ID, user presence and user verification flags, that the device is yours and active, the course\'s device-bound policy, the signature and the signature counter. Every refusal has its own code; a refused attempt uses up the challenge. If the session has already ended, its attendance record is re-decided at once.',
      body: z.object({ session_id: id, credential: authenticationResponseIn }).strict(), response: verifyOut,
      errors: [
        [404, 'not_found'], [403, 'not_enrolled'], [409, 'verification_window_closed'],
        ...refusalErrors('client_data_invalid', 'response_malformed', 'challenge_unknown', 'challenge_mismatch', 'challenge_used', 'challenge_expired', 'origin_mismatch', 'credential_unknown', 'credential_not_yours', 'credential_pending', 'credential_revoked', 'rp_id_mismatch', 'user_presence_required', 'user_verification_required', 'device_bound_required', 'signature_invalid', 'counter_regression'),
      ],
    },
    async ({ user, body }) => {
      const now = clock();
      const { session, course } = await verifiableSession(body.session_id, user.id, now);
      const { verification } = await ceremony(
        () => finishVerification(store.webauthn, settings, { studentId: user.id, sessionId: session.id, requireDeviceBound: policyOf(course).requireDeviceBound }, body.credential as AuthenticationResponseJSON, now),
        async (r) => {
          log.info({ student_id: user.id, session_id: session.id, refusal: r.code }, 'verification refused');
          // A counter going backwards hints at a cloned key: leave a trace staff can act on.
          if (r.code === 'counter_regression') await store.audit.record({ at: now, actorId: user.id, action: 'biometric.counter_regression', target: body.credential.id.slice(0, 64) });
        },
      );
      let counts = false;
      if (session.ended_at !== null) {
        const w = windowAround(session.ended_at, settings.window);
        counts = verification.at >= w.from && verification.at <= w.to;
        // The decision was written at the end; a verification inside the window after it must
        // change the record now, not at some later recomputation.
        await store.transaction(async (tx) => {
          const entries = await tx.attendance.decide(session, course, now, verifiedLookup(tx, session));
          await tx.attendance.writeDecisions(session.id, entries.filter((e) => e.student_id === user.id), now);
        });
      }
      return {
        status: 'verified' as const, session_id: session.id, verified_at: iso(verification.at)!, counts,
        counts_if_session_ends_by: session.ended_at === null ? iso(verification.at + settings.window.opensBeforeEndS * 1000) : null,
      };
    },
  );
}

/** The feature module: the students' ceremonies and the staff's device approvals. */
export function biometricModule(routes: RouteTable, deps: AppDeps): void {
  biometricRoutes(routes, deps);
  biometricDeviceRoutes(routes, deps);
}
