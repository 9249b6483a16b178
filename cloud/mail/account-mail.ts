/**
 * The mails about an account's address: the one-time verification link, and the notice that
 * someone tried to register an address that already has an account. At most
 * MAILS_PER_RECIPIENT_PER_HOUR go to one address in any rolling hour, so the registration form
 * cannot be used to flood someone's mailbox.
 */
import type { Mailer } from './transport.js';

export const MAILS_PER_RECIPIENT_PER_HOUR = 5;
const HOUR_MS = 3_600_000;

export interface AccountMail {
  /** Counts one mail to `to` and answers true, or answers false when its hourly allowance is spent. */
  mayMail(to: string): boolean;
  sendVerification(to: string, token: string, validHours: number): void;
  sendRegistrationNotice(to: string): void;
  /** The one-time link an admin's password reset sends (cloud/mail/password-reset.ts). */
  sendPasswordReset(to: string, token: string, validHours: number): void;
  close(): Promise<void>;
}

export function createAccountMail(mailer: Mailer, publicUrl: string, clock: () => number): AccountMail {
  const sent = new Map<string, number[]>();

  function recent(to: string, now: number): number[] {
    const list = (sent.get(to) ?? []).filter((at) => at > now - HOUR_MS);
    if (list.length) sent.set(to, list);
    else sent.delete(to);
    return list;
  }

  return {
    mayMail(to) {
      const now = clock();
      // Bounded memory: addresses with nothing in the last hour are swept out as the table grows.
      if (sent.size >= 4096) for (const key of [...sent.keys()]) recent(key, now);
      const list = recent(to, now);
      if (list.length >= MAILS_PER_RECIPIENT_PER_HOUR) return false;
      sent.set(to, [...list, now]);
      return true;
    },
    sendVerification(to, token, validHours) {
      // The token travels in the fragment: browsers never send it to a server or in a Referer.
      const link = `${publicUrl}/verify-email#token=${token}`;
      mailer.send({
        kind: 'email_verification',
        to,
        subject: 'Confirm your e-mail address for classroom attendance',
        text: [
          'Someone, hopefully you, registered a classroom attendance account with this address.',
          `To confirm that the address is yours, open this link within ${validHours} hours:`,
          '',
          link,
          '',
          `or enter this code in the app: ${token}`,
          '',
          'If it was not you, ignore this mail: until the address is confirmed the account cannot log in or be enrolled in a course.',
        ].join('\n'),
      });
    },
    sendRegistrationNotice(to) {
      mailer.send({
        kind: 'registration_notice',
        to,
        subject: 'Someone tried to register with your e-mail address',
        text: [
          'Someone tried to register a classroom attendance account with this address, which already has an account.',
          'If it was you, you already have an account: log in with its password.',
          'If it was not you, there is nothing to do: no account was created or changed.',
        ].join('\n'),
      });
    },
    sendPasswordReset(to, token, validHours) {
      mailer.send({
        kind: 'password_reset',
        to,
        subject: 'Choose a password for classroom attendance',
        text: [
          `An administrator asked for you to choose a password for your classroom attendance account (${to}).`,
          `To choose it, open this link within ${validHours} hours (it works once):`,
          '',
          `${publicUrl}/console/reset-password.html#token=${token}`,
          '',
          'If you already have a password, it keeps working until you use the link. If you did not expect this mail, ignore it and tell your administrator.',
        ].join('\n'),
      });
    },
    close: () => mailer.close(),
  };
}
