/** A pino logger whose lines land in an array, so tests can assert what an operator would read. */
import { Writable } from 'node:stream';
import { createLogger } from '../../gateway/log.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'debug') {
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
