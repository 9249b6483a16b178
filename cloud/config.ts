/**
 * Cloud configuration from the environment (docs/architecture.md), validated once at start. A bad value
 * stops the process with a message naming the variable instead of running half-configured.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from '../shared/mqtt/topics.js';
import { isValidTimeZone } from '../shared/time-zone.js';
import { refuseWeakPassword } from './auth/password-rules.js';
import type { MqttLimits } from './broker/limits.js';
import { rpIdFitsOrigin, type WebAuthnSettings } from './webauthn/settings.js';
import type { LoginLimits } from './auth/login-limiter.js';
import { parseProxyTrust, type ProxyTrust } from './http/client-address.js';
import cron from 'node-cron';
import type { MailSettings } from './mail/transport.js';
import type { OidcSettings } from './auth/oidc-settings.js';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z.string().trim().min(1).optional();
const commaList = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
/** Default of ATTENDANCE_GATEWAY_START_TOLERANCE_S. */
export const DEFAULT_GATEWAY_START_TOLERANCE_S = 300;

const envSchema = z
  .object({
    PORT: port.default(8000),
    HOST: z.string().min(1).default('0.0.0.0'),
    ATTENDANCE_DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: optionalString.refine((u) => u === undefined || /^(sqlite:|postgres(ql)?:\/\/|file:)/.test(u), {
      message: 'must start with sqlite:, file: or postgres://',
    }),
    MQTT_PORT: port.default(1883),
    MQTT_HOST: z.string().min(1).default('0.0.0.0'),
    MQTT_URL: optionalString.refine((u) => u === undefined || /^(mqtts?|wss?|tcp|ssl):\/\//.test(u), {
      message: 'must be an mqtt://, mqtts://, ws:// or wss:// URL',
    }),
    MQTT_USERNAME: optionalString,
    MQTT_PASSWORD: optionalString,
    MQTT_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9_/-]+$/).default('att/v1'),
    MQTT_DISABLED: z.enum(['0', '1', 'true', 'false']).default('false').transform((v) => v === '1' || v === 'true'),
    MQTT_TLS_CERT_FILE: optionalString,
    MQTT_TLS_KEY_FILE: optionalString,
    MQTT_CA_FILE: optionalString,
    MQTT_PUBLIC_URL: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt:// or mqtts:// URL').optional(),
    MQTT_CLIENT_ID: z.string().regex(/^cloud-[A-Za-z0-9_.-]{1,60}$/, 'must start with cloud- (the broker requires it)').optional(),
    MQTT_ACK_TIMEOUT_MS: z.coerce.number().int().min(0).max(30_000).default(2000),
    // Limits of the embedded broker (cloud/broker/limits.ts, docs/operations.md "MQTT limits").
    MQTT_MAX_PACKET_BYTES: z.coerce.number().int().min(1024).max(268_435_455).default(MAX_PAYLOAD_BYTES + 1024),
    MQTT_MAX_CONNECT_BYTES: z.coerce.number().int().min(256).max(65_536).default(4096),
    MQTT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    MQTT_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(5000),
    MQTT_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(2500),
    ATTENDANCE_GATEWAY_START_TOLERANCE_S: z.coerce.number().int().min(10).max(3600).default(DEFAULT_GATEWAY_START_TOLERANCE_S),
    ATTENDANCE_TIMEZONE: z.string().default('UTC').refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' }),
    ATTENDANCE_ADMIN_EMAIL: z.email().optional(),
    ATTENDANCE_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').superRefine(refuseWeakPassword).optional(),
    ATTENDANCE_JWT_SECRET_FILE: optionalString,
    ATTENDANCE_TOKEN_TTL_S: z.coerce.number().int().min(60).max(86_400).default(3600),
    // Unset: open exactly when mail is configured (self-registered accounts prove their address by mail).
    ATTENDANCE_OPEN_REGISTRATION: z.enum(['0', '1', 'true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === '1' || v === 'true')),
    ATTENDANCE_SMTP_URL: optionalString.refine((u) => u === undefined || /^smtps?:\/\/[^\s/]+/.test(u), { message: 'must be an smtp:// or smtps:// URL such as smtps://user:password@mail.uni.example' }),
    ATTENDANCE_MAIL_FROM: optionalString.refine((f) => f === undefined || /^([^<>]*<)?[^\s@<>]+@[^\s@<>]+>?$/.test(f), { message: 'must be an address such as attendance@uni.example or "Attendance <attendance@uni.example>"' }),
    ATTENDANCE_PUBLIC_URL: optionalString.refine((u) => u === undefined || /^(https:\/\/[^\s/]+|http:\/\/localhost(:\d+)?)(\/[^\s#?]*)?$/.test(u), { message: 'must be https://host[/path] (or http://localhost[:port] for development)' }),
    // Sign-in through the institution's OpenID provider (cloud/auth/oidc-settings.ts); off unless issuer, client id and public URL are set.
    ATTENDANCE_OIDC_ISSUER: optionalString.refine((u) => u === undefined || /^(https:\/\/[^\s/]+|http:\/\/localhost(:\d+)?)(\/[^\s#?]*)?$/.test(u), { message: 'must be https://host[/path] (or http://localhost[:port] for development)' }),
    ATTENDANCE_OIDC_CLIENT_ID: optionalString,
    ATTENDANCE_OIDC_CLIENT_SECRET: optionalString,
    ATTENDANCE_OIDC_NAME: z.string().trim().min(1).max(64).default('your institution'),
    ATTENDANCE_OIDC_ROLE_CLAIM: z.string().trim().min(1).default('groups'),
    ATTENDANCE_OIDC_TEACHER_VALUES: z.string().optional().transform(commaList),
    ATTENDANCE_OIDC_ADMIN_VALUES: z.string().optional().transform(commaList),
    ATTENDANCE_OIDC_APP_REDIRECTS: z.string().optional().transform(commaList).refine((l) => l.every((u) => URL.canParse(u) && !/^(javascript|data):/i.test(u) && !u.includes('#')), { message: 'must be absolute redirect URIs without a fragment, separated by commas (e.g. edu.uni.attendance:/oidc)' }),
    ATTENDANCE_OIDC_ACCOUNT_CLAIM: optionalString,
    ATTENDANCE_LOGIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(10),
    ATTENDANCE_LOGIN_MAX_PER_ACCOUNT: z.coerce.number().int().min(1).max(10_000).default(20),
    ATTENDANCE_LOGIN_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000).default(50),
    ATTENDANCE_LOGIN_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(900),
    ATTENDANCE_LOGIN_MAX_WAIT_S: z.coerce.number().int().min(1).max(86_400).default(900),
    ATTENDANCE_REGISTER_MAX_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(30),
    ATTENDANCE_TRUST_PROXY: z.string().default('false').transform((v, ctx) => {
      try {
        return parseProxyTrust(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
    ATTENDANCE_RP_ID: z.string().trim().toLowerCase().regex(/^[a-z0-9.-]+$/, 'must be a domain name such as attendance.uni.example').default('localhost'),
    ATTENDANCE_RP_NAME: z.string().trim().min(1).max(64).default('Classroom attendance'),
    // WebAuthn origins: https web origins, http://localhost for development, and Android app
    // origins (android:apk-key-hash:…) of the native app using Credential Manager.
    ATTENDANCE_ORIGINS: z.string().optional().transform((v, ctx) => {
      const list = (v ?? '').split(',').map((o) => o.trim()).filter(Boolean);
      for (const o of list) {
        if (!/^(https:\/\/[^/]+|http:\/\/localhost(:\d+)?|android:apk-key-hash:[A-Za-z0-9_-]+)$/.test(o)) {
          ctx.addIssue({ code: 'custom', message: `${o}: must be https://host[:port], http://localhost[:port] or android:apk-key-hash:…, without a path` });
        }
      }
      return list;
    }),
    ATTENDANCE_VERIFY_OPENS_MIN: z.coerce.number().int().min(0).max(240).default(10),
    ATTENDANCE_VERIFY_CLOSES_MIN: z.coerce.number().int().min(0).max(240).default(15),
    ATTENDANCE_CHALLENGE_TTL_S: z.coerce.number().int().min(30).max(900).default(300),
    ATTENDANCE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    ATTENDANCE_ABSENCE_WARNINGS_SCHEDULE: optionalString.refine((c) => c === undefined || cron.validate(c), { message: 'must be a cron expression such as "23 * * * *"' }),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((e) => (e.MQTT_TLS_CERT_FILE === undefined) === (e.MQTT_TLS_KEY_FILE === undefined), {
    message: 'MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE must be set together',
    path: ['MQTT_TLS_KEY_FILE'],
  })
  .refine((e) => (e.ATTENDANCE_ADMIN_EMAIL === undefined) === (e.ATTENDANCE_ADMIN_PASSWORD === undefined), {
    message: 'ATTENDANCE_ADMIN_EMAIL and ATTENDANCE_ADMIN_PASSWORD must be set together',
    path: ['ATTENDANCE_ADMIN_PASSWORD'],
  })
  .refine((e) => (e.ATTENDANCE_SMTP_URL === undefined) === (e.ATTENDANCE_MAIL_FROM === undefined), {
    message: 'ATTENDANCE_SMTP_URL and ATTENDANCE_MAIL_FROM must be set together',
    path: ['ATTENDANCE_MAIL_FROM'],
  })
  .refine((e) => e.ATTENDANCE_OPEN_REGISTRATION !== true || (e.ATTENDANCE_SMTP_URL !== undefined && e.ATTENDANCE_PUBLIC_URL !== undefined), {
    message: 'open registration needs ATTENDANCE_SMTP_URL, ATTENDANCE_MAIL_FROM and ATTENDANCE_PUBLIC_URL: a self-registered account proves its address with a mailed link',
    path: ['ATTENDANCE_OPEN_REGISTRATION'],
  })
  .superRefine((e, ctx) => {
    // Issuer, client id and public URL switch sign-in through the institution on; one without the others is a mistake.
    const parts = { ATTENDANCE_OIDC_ISSUER: e.ATTENDANCE_OIDC_ISSUER, ATTENDANCE_OIDC_CLIENT_ID: e.ATTENDANCE_OIDC_CLIENT_ID };
    const set = Object.values(parts).some((v) => v !== undefined) || e.ATTENDANCE_OIDC_CLIENT_SECRET !== undefined;
    if (!set) return;
    const needed = { ...parts, ATTENDANCE_PUBLIC_URL: e.ATTENDANCE_PUBLIC_URL };
    for (const [name, value] of Object.entries(needed)) {
      if (value === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'sign-in through the institution needs ATTENDANCE_OIDC_ISSUER, ATTENDANCE_OIDC_CLIENT_ID and ATTENDANCE_PUBLIC_URL together' });
    }
  })
  .refine((e) => (e.ATTENDANCE_ORIGINS ?? []).every((o) => !o.startsWith('http') || rpIdFitsOrigin(e.ATTENDANCE_RP_ID, o)), {
    message: 'ATTENDANCE_RP_ID must be the host of every web origin in ATTENDANCE_ORIGINS or a domain suffix of it',
    path: ['ATTENDANCE_RP_ID'],
  });

/** The MQTT side: the embedded broker (port, host, TLS) unless `url` names an external one. */
export interface MqttConfig {
  port: number;
  host: string;
  url: string | null;
  username: string | null;
  password: string | null;
  topicPrefix: string;
  disabled: boolean;
  /** The embedded broker listens with TLS (mqtts). */
  tls: { cert: Buffer; key: Buffer } | null;
  /** CA the cloud's client trusts (an external mqtts broker). */
  ca: Buffer | null;
  /** Broker URL handed to provisioned gateways (default: derived from the request's host). */
  publicUrl: string | null;
  clientId: string;
  /** How long a session start/end waits for the room gateway's confirmation. */
  ackTimeoutMs: number;
  /** Packet sizes, CONNECT deadline and connection caps of the embedded broker. */
  limits: MqttLimits;
  /** How far a gateway's reported session times may be from the cloud's clock, after its measured skew (cloud/bridge/gateway-session-checks.ts). */
  gatewayStartToleranceMs: number;
}

export interface CloudConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  mqtt: MqttConfig;
  timezone: string;
  admin: { email: string; password: string } | null;
  jwtSecretFile: string;
  tokenTtlS: number;
  /** Students may register themselves; only with `mail` and `publicUrl` (config check). */
  openRegistration: boolean;
  /** Outgoing mail (cloud/mail/): the SMTP URL, with its credentials, and the sender. */
  mail: MailSettings | null;
  /** Where people reach the service; the base of links in mails (e-mail verification). */
  publicUrl: string | null;
  login: LoginLimits;
  /** Self-registrations per client network in any rolling hour. */
  registerMaxPerHour: number;
  /** How far X-Forwarded-For is trusted (cloud/http/client-address.ts). */
  trustProxy: ProxyTrust;
  logLevel: string;
  webauthn: WebAuthnSettings;
  /** Raw submissions and verifications of sessions ended longer ago are deleted (docs/privacy.md). */
  retentionDays: number;
  /** When the absence-warning job runs (cron, institution time zone); null: hourly at :23 (cloud/jobs/absence-warnings.ts). */
  absenceWarningsSchedule: string | null;
  /** Sign-in through the institution's OpenID provider; null when it is not configured. */
  oidc: OidcSettings | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function readConfigFile(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${file}: ${(err as Error).message}`]);
  }
}

export function loadCloudConfig(env: NodeJS.ProcessEnv = process.env): CloudConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`));
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.ATTENDANCE_DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'attendance.db')}`,
    mqtt: {
      port: e.MQTT_PORT,
      host: e.MQTT_HOST,
      url: e.MQTT_URL ?? null,
      username: e.MQTT_USERNAME ?? null,
      password: e.MQTT_PASSWORD ?? null,
      topicPrefix: e.MQTT_TOPIC_PREFIX,
      disabled: e.MQTT_DISABLED,
      tls: e.MQTT_TLS_CERT_FILE && e.MQTT_TLS_KEY_FILE ? { cert: readConfigFile('MQTT_TLS_CERT_FILE', e.MQTT_TLS_CERT_FILE), key: readConfigFile('MQTT_TLS_KEY_FILE', e.MQTT_TLS_KEY_FILE) } : null,
      ca: e.MQTT_CA_FILE ? readConfigFile('MQTT_CA_FILE', e.MQTT_CA_FILE) : null,
      publicUrl: e.MQTT_PUBLIC_URL ?? null,
      clientId: e.MQTT_CLIENT_ID ?? `cloud-${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 40) || 'host'}`,
      ackTimeoutMs: e.MQTT_ACK_TIMEOUT_MS,
      limits: {
        maxPacketBytes: e.MQTT_MAX_PACKET_BYTES,
        maxConnectBytes: e.MQTT_MAX_CONNECT_BYTES,
        connectTimeoutMs: e.MQTT_CONNECT_TIMEOUT_MS,
        maxConnections: e.MQTT_MAX_CONNECTIONS,
        maxConnectionsPerAddress: e.MQTT_MAX_CONNECTIONS_PER_ADDRESS,
      },
      gatewayStartToleranceMs: e.ATTENDANCE_GATEWAY_START_TOLERANCE_S * 1000,
    },
    timezone: e.ATTENDANCE_TIMEZONE,
    admin: e.ATTENDANCE_ADMIN_EMAIL && e.ATTENDANCE_ADMIN_PASSWORD ? { email: e.ATTENDANCE_ADMIN_EMAIL.toLowerCase(), password: e.ATTENDANCE_ADMIN_PASSWORD } : null,
    jwtSecretFile: e.ATTENDANCE_JWT_SECRET_FILE ?? path.join(dataDir, 'jwt-secret'),
    tokenTtlS: e.ATTENDANCE_TOKEN_TTL_S,
    openRegistration: e.ATTENDANCE_OPEN_REGISTRATION ?? (e.ATTENDANCE_SMTP_URL !== undefined && e.ATTENDANCE_PUBLIC_URL !== undefined),
    mail: e.ATTENDANCE_SMTP_URL && e.ATTENDANCE_MAIL_FROM ? { smtpUrl: e.ATTENDANCE_SMTP_URL, from: e.ATTENDANCE_MAIL_FROM } : null,
    publicUrl: e.ATTENDANCE_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    login: {
      perPair: e.ATTENDANCE_LOGIN_MAX_ATTEMPTS,
      perAccount: e.ATTENDANCE_LOGIN_MAX_PER_ACCOUNT,
      perAddress: e.ATTENDANCE_LOGIN_MAX_PER_ADDRESS,
      windowS: e.ATTENDANCE_LOGIN_WINDOW_S,
      maxWaitS: e.ATTENDANCE_LOGIN_MAX_WAIT_S,
    },
    registerMaxPerHour: e.ATTENDANCE_REGISTER_MAX_PER_HOUR,
    trustProxy: e.ATTENDANCE_TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    webauthn: {
      rpId: e.ATTENDANCE_RP_ID,
      rpName: e.ATTENDANCE_RP_NAME,
      origins: e.ATTENDANCE_ORIGINS.length ? e.ATTENDANCE_ORIGINS : [`http://localhost:${e.PORT}`],
      window: { opensBeforeEndS: e.ATTENDANCE_VERIFY_OPENS_MIN * 60, closesAfterEndS: e.ATTENDANCE_VERIFY_CLOSES_MIN * 60 },
      challengeTtlS: e.ATTENDANCE_CHALLENGE_TTL_S,
    },
    retentionDays: e.ATTENDANCE_RETENTION_DAYS,
    absenceWarningsSchedule: e.ATTENDANCE_ABSENCE_WARNINGS_SCHEDULE ?? null,
    oidc: e.ATTENDANCE_OIDC_ISSUER && e.ATTENDANCE_OIDC_CLIENT_ID && e.ATTENDANCE_PUBLIC_URL
      ? {
          issuer: e.ATTENDANCE_OIDC_ISSUER,
          clientId: e.ATTENDANCE_OIDC_CLIENT_ID,
          clientSecret: e.ATTENDANCE_OIDC_CLIENT_SECRET ?? null,
          name: e.ATTENDANCE_OIDC_NAME,
          redirectUri: `${e.ATTENDANCE_PUBLIC_URL.replace(/\/+$/, '')}/api/v1/auth/oidc/callback`,
          roleClaim: e.ATTENDANCE_OIDC_ROLE_CLAIM,
          teacherValues: e.ATTENDANCE_OIDC_TEACHER_VALUES,
          adminValues: e.ATTENDANCE_OIDC_ADMIN_VALUES,
          appRedirects: e.ATTENDANCE_OIDC_APP_REDIRECTS,
          accountClaim: e.ATTENDANCE_OIDC_ACCOUNT_CLAIM ?? null,
        }
      : null,
  };
}
