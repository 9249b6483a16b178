/** The mail settings and open registration: a cloud opens self-registration only when it can mail the link that proves an address. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadCloudConfig } from '../../cloud/config.js';

const MAIL = { ATTENDANCE_SMTP_URL: 'smtps://mailer:s3cret-pass@mail.uni.example', ATTENDANCE_MAIL_FROM: 'Attendance <attendance@uni.example>', ATTENDANCE_PUBLIC_URL: 'https://attendance.uni.example/' };

function problems(env: Record<string, string>): string[] {
  try {
    loadCloudConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('mail configuration', () => {
  it('keeps self-registration closed when no mail is configured', () => {
    expect(loadCloudConfig({})).toMatchObject({ openRegistration: false, mail: null, publicUrl: null });
  });

  it('opens it when mail and the public address are configured', () => {
    expect(loadCloudConfig(MAIL)).toMatchObject({
      openRegistration: true,
      mail: { smtpUrl: MAIL.ATTENDANCE_SMTP_URL, from: MAIL.ATTENDANCE_MAIL_FROM },
      publicUrl: 'https://attendance.uni.example',
    });
    expect(loadCloudConfig({ ...MAIL, ATTENDANCE_OPEN_REGISTRATION: 'false' }).openRegistration).toBe(false);
  });

  it('refuses open registration without mail, naming the variable', () => {
    const p = problems({ ATTENDANCE_OPEN_REGISTRATION: 'true' });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^ATTENDANCE_OPEN_REGISTRATION: open registration needs ATTENDANCE_SMTP_URL/);
    expect(problems({ ATTENDANCE_OPEN_REGISTRATION: 'true', ATTENDANCE_SMTP_URL: MAIL.ATTENDANCE_SMTP_URL, ATTENDANCE_MAIL_FROM: MAIL.ATTENDANCE_MAIL_FROM })[0]).toMatch(/ATTENDANCE_PUBLIC_URL/);
  });

  it('refuses bad mail values without repeating the SMTP password', () => {
    const p = [
      ...problems({ ...MAIL, ATTENDANCE_SMTP_URL: 'http://mailer:s3cret-pass@mail.uni.example' }),
      ...problems({ ...MAIL, ATTENDANCE_MAIL_FROM: 'not an address' }),
      ...problems({ ...MAIL, ATTENDANCE_PUBLIC_URL: 'http://attendance.uni.example' }),
      ...problems({ ATTENDANCE_SMTP_URL: MAIL.ATTENDANCE_SMTP_URL }),
    ];
    expect(p.map((x) => x.split(':')[0])).toEqual(['ATTENDANCE_SMTP_URL', 'ATTENDANCE_MAIL_FROM', 'ATTENDANCE_PUBLIC_URL', 'ATTENDANCE_MAIL_FROM']);
    expect(p.join('\n')).not.toContain('s3cret-pass');
  });
});
