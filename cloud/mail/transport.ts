/**
 * Outgoing mail over SMTP (nodemailer), configured by ATTENDANCE_SMTP_URL and
 * ATTENDANCE_MAIL_FROM (docs/operations.md, "Mail"). `send` queues a message and returns at
 * once, so a slow or unreachable mail server never holds up an HTTP answer; a message that cannot
 * be delivered is logged by its kind and the server's error, never with its text (it holds a
 * one-time token) or the SMTP credentials.
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface MailSettings {
  /** smtp:// (STARTTLS, required unless the server is this machine) or smtps:// (TLS), with credentials. */
  smtpUrl: string;
  /** The sender: an address, or `Name <address>`. */
  from: string;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** What the message is, for the log (`email_verification`, …): the log never holds its text. */
  kind: string;
}

export interface Mailer {
  /** Queues the message and returns; its delivery happens in the background. */
  send(message: MailMessage): void;
  /** Sends the message and answers whether the mail server accepted it (never rejects). */
  deliver(message: MailMessage): Promise<boolean>;
  /** Waits for the messages in flight (at most `drainMs`), then closes the connections. */
  close(drainMs?: number): Promise<void>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function createSmtpMailer(settings: MailSettings, logger: Logger): Mailer {
  const url = new URL(settings.smtpUrl);
  const transport = nodemailer.createTransport({
    url: settings.smtpUrl,
    pool: true,
    maxConnections: 2,
    // Credentials never cross the network in the clear: STARTTLS is required on smtp:// unless
    // the server is on this machine.
    requireTLS: url.protocol === 'smtp:' && !LOOPBACK.has(url.hostname),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    dnsTimeout: 10_000,
  });
  const inFlight = new Set<Promise<boolean>>();

  function deliver(message: MailMessage): Promise<boolean> {
    const delivery: Promise<boolean> = transport
      .sendMail({ from: settings.from, to: message.to, subject: message.subject, text: message.text })
      .then(
        () => {
          logger.info({ kind: message.kind }, 'mail sent');
          return true;
        },
        (err: Error & { code?: string; responseCode?: number }) => {
          logger.warn({ kind: message.kind, code: err.code, responseCode: err.responseCode }, 'mail not sent');
          return false;
        },
      )
      .finally(() => inFlight.delete(delivery));
    inFlight.add(delivery);
    return delivery;
  }

  return {
    send(message) {
      void deliver(message);
    },
    deliver,
    async close(drainMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); })]);
      clearTimeout(timer);
      transport.close();
    },
  };
}
