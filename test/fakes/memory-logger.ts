/** A pino logger whose lines land in an array, so tests can assert what an operator would read. */
import { Writable } from 'node:stream';
import type { DestinationStream, Logger } from 'pino';
import { createLogger as createGatewayLogger } from '../../gateway/log.js';

/** The process's own logger factory (the gateway's unless given), so its redaction is what is tested. */
type LoggerFactory = (level: 'debug' | 'info' | 'warn', destination: DestinationStream) => Logger;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'debug', createLogger: LoggerFactory = createGatewayLogger) {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(text);
        lines.push(JSON.parse(text) as LogLine);
      }
      cb();
    },
  });
  return { log: createLogger(level, sink), lines, raw };
}
