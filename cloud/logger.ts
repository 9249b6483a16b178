/** pino JSON logs to stdout; secrets are redacted wherever they might appear in a logged object. */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'room_secret', '*.room_secret', 'token', '*.token', 'access_token', '*.access_token',
  'req.headers.authorization', 'headers.authorization', 'mqtt.password', 'config.mqtt.password',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'attendance-cloud' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
