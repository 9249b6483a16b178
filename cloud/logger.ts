/** pino JSON logs to stdout; secrets are redacted wherever they might appear in a logged object. */
import pino, { type Logger } from 'pino';
import { REDACTED, REDACT_PATHS } from '../shared/redact.js';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'attendance-cloud' }, redact: { paths: [...REDACT_PATHS], censor: REDACTED } }, destination);
}
