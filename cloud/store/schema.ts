/**
 * Table types for Kysely. Times are integer milliseconds since the Unix epoch (UTC); calendar
 * dates (terms) are 'YYYY-MM-DD' strings. Booleans are 0/1 integers on both backends.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

export type Role = 'student' | 'teacher' | 'admin';
export type AttendanceStatus = 'present' | 'late' | 'absent' | 'excused';
export type SessionSource = 'cloud' | 'timetable' | 'gateway';

export interface UsersTable {
  id: string;
  email: string;
  full_name: string;
  role: Role;
  password_hash: string;
  created_at: number;
  /** Added by migration 006_account_tokens: the `ver` claim a token must carry to be accepted. */
  token_version: Generated<number>;
  /** Added by migration 006_account_tokens: set while the account is deactivated. */
  deactivated_at: number | null;
  /** Added by migration 005_email_verification: when the owner proved the address (admin-made accounts: when made). */
  email_verified_at: number | null;
  /** Added by migration 008_institution_identity: the student information system's id (OneRoster sourcedId). */
  sourced_id: string | null;
}

/** Added by migration 008_institution_identity: an OpenID provider's (issuer, sub) that signs this account in. */
export interface IdentityLinksTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: number;
  last_login_at: number | null;
}

/** A started sign-in through the OpenID provider, until its callback (migration 009). */
export interface OidcLoginsTable {
  state_hash: string;
  browser_hash: string;
  nonce: string;
  code_verifier: string;
  return_to: string | null;
  created_at: number;
  expires_at: number;
}
export type OidcLogin = Selectable<OidcLoginsTable>;

/** A one-time code of a finished sign-in, stored as its SHA-256 (migration 009). */
export interface OidcCodesTable {
  code_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface TermsTable {
  id: string;
  name: string;
  starts_on: string;
  ends_on: string;
  /** Added by migration 010_oneroster: the student information system's id (OneRoster academic session sourcedId), null when made in the cloud. */
  sourced_id: string | null;
}

export interface CoursesTable {
  id: string;
  code: string;
  name: string;
  teacher_id: string;
  term_id: string | null;
  min_presence: number;
  late_after_s: number;
  require_biometric: number;
  /** Added by migration 003_webauthn. */
  require_device_bound: number;
  min_attendance_pct: number;
  grace_s: number;
  created_at: number;
  /** Added by migration 010_oneroster: the student information system's id (OneRoster class sourcedId), null when made in the cloud. */
  sourced_id: string | null;
  /** Added by migration 012_proximity: 1 on, 0 off, null = on when the session's room has an active gateway. */
  require_proximity: number | null;
}

export interface EnrollmentsTable {
  course_id: string;
  student_id: string;
  created_at: number;
  /** Added by migration 010_oneroster: the student information system's id (OneRoster enrollment sourcedId), null when made in the cloud. */
  sourced_id: string | null;
}

export interface RoomsTable {
  id: string;
  name: string;
  room_code: number;
  secret: string;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  course_id: string;
  room_id: string;
  started_at: number;
  ended_at: number | null;
  period_s: number;
  source: SessionSource;
  state: 'live' | 'ended';
  started_by: string | null;
}

export interface SubmissionsTable {
  session_id: string;
  student_id: string;
  w: number;
  received_at: number;
  rssi: number | null;
  via: string;
}

export interface AttendanceTable {
  session_id: string;
  student_id: string;
  status: AttendanceStatus;
  presence: number;
  windows_seen: number;
  windows_total: number;
  first_seen: number | null;
  last_seen: number | null;
  verified: number;
  reasons: string;
  decided_at: number;
  override_status: AttendanceStatus | null;
  override_reason: string | null;
  override_by: string | null;
  override_at: number | null;
  /** Added by migration 012_proximity: windows the room's gateway witnessed this student in. */
  witnessed_windows: Generated<number>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor_id: string | null;
  action: string;
  target: string;
  details: string;
}

export interface Database {
  users: UsersTable;
  terms: TermsTable;
  identity_links: IdentityLinksTable;
  oidc_logins: OidcLoginsTable;
  oidc_codes: OidcCodesTable;
  courses: CoursesTable;
  enrollments: EnrollmentsTable;
  rooms: RoomsTable;
  sessions: SessionsTable;
  submissions: SubmissionsTable;
  attendance: AttendanceTable;
  audit_log: AuditLogTable;
  gateways: GatewaysTable;
  gateway_provisioning_codes: ProvisioningCodesTable;
  gateway_commands: GatewayCommandsTable;
  ingested_events: IngestedEventsTable;
  course_slots: CourseSlotsTable;
  webauthn_credentials: WebAuthnCredentialsTable;
  webauthn_challenges: WebAuthnChallengesTable;
  verifications: VerificationsTable;
  email_verifications: EmailVerificationsTable;
  account_erasures: AccountErasuresTable;
  witnessed_windows: WitnessedWindowsTable;
  checkin_refusals: CheckinRefusalsTable;
  absence_warning_settings: AbsenceWarningSettingsTable;
  absence_warnings: AbsenceWarningsTable;
}

export type User = Selectable<UsersTable>;
export type Course = Selectable<CoursesTable>;
export type Room = Selectable<RoomsTable>;
export type Session = Selectable<SessionsTable>;
export type AttendanceRow = Selectable<AttendanceTable>;
export type NewAttendance = Insertable<AttendanceTable>;

// Gateways and the MQTT bridge (migration 002_gateways; token_log dropped by 004_drop_token_log).

export type GatewayState = 'never_connected' | 'online' | 'offline';
export type CommandState = 'pending' | 'confirmed' | 'failed' | 'cancelled';

export interface GatewaysTable {
  id: string;
  room_id: string;
  secret_hash: string | null;
  created_at: number;
  created_by: string | null;
  revoked_at: number | null;
  state: GatewayState;
  state_at: number | null;
  online_since: number | null;
  last_heartbeat_at: number | null;
  clock_skew_ms: number | null;
  outbox_depth: number | null;
  version: string | null;
  radio: string | null;
  uptime_s: number | null;
  live_session_id: string | null;
  rejected_events: number;
  last_rejection: string | null;
  /** 1 when the gateway's latest online status said it serves the GATT check-in (migration 012). */
  checkin_service: number;
}

export interface ProvisioningCodesTable {
  code_hash: string;
  gateway_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface GatewayCommandsTable {
  id: string;
  seq: number;
  room_id: string;
  type: string;
  data: string;
  session_id: string | null;
  state: CommandState;
  created_at: number;
  sent_at: number | null;
  sent_to: string | null;
  attempts: number;
  result_at: number | null;
  error_code: string | null;
  error_message: string | null;
}

export interface IngestedEventsTable {
  id: string;
  gateway_id: string;
  type: string;
  at: number;
  received_at: number;
}

export interface CourseSlotsTable {
  id: string;
  course_id: string;
  room_id: string;
  weekday: number;
  start_time: string;
  end_time: string;
  period_s: number | null;
  created_at: number;
}

export type Gateway = Selectable<GatewaysTable>;
export type GatewayCommand = Selectable<GatewayCommandsTable>;
export type IngestedEvent = Selectable<IngestedEventsTable>;
export type CourseSlot = Selectable<CourseSlotsTable>;

// WebAuthn (migration 003_webauthn).

export type CredentialStatus = 'active' | 'pending' | 'revoked';

export interface WebAuthnCredentialsTable {
  /** Our own id (UUID), used in URLs; `credential_id` is the authenticator's (base64url). */
  id: string;
  credential_id: string;
  student_id: string;
  /** COSE_Key (WebAuthn L2 §6.5.1.1), base64url. A public key: no secret, no biometric. */
  public_key: string;
  counter: number;
  aaguid: string;
  /** BE flag at registration (L3 §6.1.3): 1 means the key may be synced to other devices. */
  backup_eligible: number;
  /** BS flag as last seen. */
  backed_up: number;
  /** Comma-separated AuthenticatorTransport hints, for allowCredentials. */
  transports: string;
  device_name: string | null;
  status: CredentialStatus;
  decided_by: string | null;
  decided_at: number | null;
  created_at: number;
  last_used_at: number | null;
  /** Added by migration 012_proximity: the device's check-in public key (SPKI DER, base64url), if enrolled. */
  checkin_key: string | null;
  /** Added by migration 012_proximity: first 16 bytes of SHA-256(SPKI DER), hex; unique. */
  checkin_key_id: string | null;
}

export interface WebAuthnChallengesTable {
  id: string;
  challenge_hash: string;
  purpose: 'register' | 'verify';
  student_id: string;
  session_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface VerificationsTable {
  id: string;
  session_id: string;
  student_id: string;
  /** webauthn_credentials.id of the key that signed. */
  credential_id: string;
  at: number;
  uv: number;
  backed_up: number;
  counter: number;
}

export type StoredCredential = Selectable<WebAuthnCredentialsTable>;
export type StoredChallenge = Selectable<WebAuthnChallengesTable>;
export type Verification = Selectable<VerificationsTable>;

// E-mail verification (migration 005_email_verification).

export interface EmailVerificationsTable {
  /** SHA-256 (hex) of the one-time token; the token itself is only in the mail. */
  token_hash: string;
  user_id: string;
  /** Set when the link re-registers an unconfirmed address: applied to the account when used. */
  full_name: string | null;
  password_hash: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export type EmailVerification = Selectable<EmailVerificationsTable>;

// Erasure (migration 011_account_erasures).

/** An account whose identity was erased (docs/privacy.md, "Erasure"): when, and by which admin. */
export interface AccountErasuresTable {
  user_id: string;
  erased_at: number;
  erased_by: string | null;
}

// Proof of proximity (migration 012_proximity).

/** A window in which the room's gateway witnessed a student's enrolled phone (a verified check-in). */
export interface WitnessedWindowsTable {
  session_id: string;
  student_id: string;
  w: number;
  key_id: string;
  gateway_id: string;
  event_id: string;
  rssi: number | null;
  /** The BLE address of the phone that wrote the check-in, as the gateway saw it. */
  peer: string;
  /** Challenge read to check-in write, on the gateway. */
  latency_ms: number;
  /** When the gateway received the write (the envelope's `at`). */
  at: number;
  received_at: number;
}

/** A check-in the cloud refused, and why (docs/api.md, "Proof of proximity"). */
export interface CheckinRefusalsTable {
  id: Generated<number>;
  event_id: string;
  gateway_id: string;
  session_id: string;
  key_id: string;
  w: number;
  reason: string;
  at: number;
  received_at: number;
}

export type WitnessedWindow = Selectable<WitnessedWindowsTable>;
export type CheckinRefusal = Selectable<CheckinRefusalsTable>;

// Absence warnings (migration 013_absence_warnings).

/** A course's warning thresholds; a null rule is off. */
export interface AbsenceWarningSettingsTable {
  course_id: string;
  /** Warn when the student's attendance percentage falls below this (1–100). */
  min_percent: number | null;
  /** Warn after this many absences in a row (1–50). */
  max_consecutive: number | null;
  updated_at: number;
  updated_by: string;
}

export type AbsenceWarningKind = 'percentage' | 'consecutive';

/** A crossing the warning job found: kept while the student stays past the threshold. */
export interface AbsenceWarningsTable {
  course_id: string;
  student_id: string;
  kind: AbsenceWarningKind;
  /** The percentage, or the number of absences in a row, when the crossing was found. */
  value: number;
  crossed_at: number;
  /** When the mail server accepted the student's mail; null until then. */
  student_mailed_at: number | null;
  /** When the mail server accepted the teacher's digest naming it; null until then. */
  teacher_mailed_at: number | null;
}

export type AbsenceWarningSettings = Selectable<AbsenceWarningSettingsTable>;
export type AbsenceWarning = Selectable<AbsenceWarningsTable>;
