/**
 * The gateway's root logger: pino JSON to stdout (journald stores it). Secrets are redacted by
 * path so that a config object or an error carrying one can never print it (docs/protocol.md §Tokens).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { REDACTED, REDACT_PATHS } from '../shared/redact.js';

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { service: 'attendance-gateway' },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(opts, destination) : pino(opts);
}

export type { Logger };
