/**
 * A real SMTP server for tests (smtp-server on a free port, with a login the cloud must use), and
 * the mails it received, decoded. `env` is what the cloud needs to send through it.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  /** The body, quoted-printable decoded. */
  text: string;
}

export interface TestSmtp {
  mails: ReceivedMail[];
  env: Record<string, string>;
  /** Holds every new connection's greeting until `release()` (a slow mail server). */
  stall(): void;
  release(): void;
  close(): Promise<void>;
}

export const SMTP_USER = 'attendance-mailer';
export const SMTP_PASSWORD = 'smtp-secret-for-tests';
export const PUBLIC_URL = 'https://attendance.uni.example';

function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function parseMail(raw: string, to: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1] ?? '';
  const text = /quoted-printable/i.test(header('Content-Transfer-Encoding')) ? decodeQuotedPrintable(body) : body;
  return { to, subject: header('Subject'), text: text.replace(/\r\n/g, '\n') };
}

export async function startTestSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let stalled: Array<() => void> | null = null;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onConnect(_session, callback) {
      if (stalled) stalled.push(() => callback());
      else callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
      else callback(new Error('invalid login'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(parseMail(Buffer.concat(chunks).toString('latin1'), session.envelope.rcptTo.map((r) => r.address)));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    mails,
    env: {
      ATTENDANCE_SMTP_URL: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${port}`,
      ATTENDANCE_MAIL_FROM: 'Attendance <attendance@uni.example>',
      ATTENDANCE_PUBLIC_URL: PUBLIC_URL,
    },
    stall() {
      stalled = [];
    },
    release() {
      const waiting = stalled ?? [];
      stalled = null;
      for (const go of waiting) go();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The one-time token in a verification mail. */
export function tokenOf(mail: ReceivedMail): string {
  const m = /#token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!m?.[1]) throw new Error(`no verification link in: ${mail.subject}`);
  return m[1];
}
