/** Parses a CSV roster: one e-mail per row, first column; an `email` header row is skipped. */
import { z } from 'zod';

export interface RosterRejection {
  row: number;
  value: string;
  code: string;
  message: string;
}

const emailSchema = z.email();
export const MAX_ROSTER_ROWS = 5000;

export function parseRoster(csv: string): { emails: Array<{ row: number; email: string }>; rejected: RosterRejection[] } {
  const emails: Array<{ row: number; email: string }> = [];
  const rejected: RosterRejection[] = [];
  const seen = new Set<string>();
  const lines = csv.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    const row = i + 1;
    const value = (line.split(',')[0] ?? '').trim().replace(/^"(.*)"$/, '$1').trim();
    if (value === '' || (row === 1 && value.toLowerCase() === 'email')) return;
    if (emails.length >= MAX_ROSTER_ROWS) {
      rejected.push({ row, value, code: 'too_many_rows', message: `at most ${MAX_ROSTER_ROWS} rows per upload` });
    } else if (!emailSchema.safeParse(value).success) {
      rejected.push({ row, value: value.slice(0, 254), code: 'invalid_email', message: 'not an e-mail address' });
    } else if (seen.has(value.toLowerCase())) {
      rejected.push({ row, value, code: 'duplicate_row', message: 'this e-mail appears earlier in the roster' });
    } else {
      seen.add(value.toLowerCase());
      emails.push({ row, email: value.toLowerCase() });
    }
  });
  return { emails, rejected };
}
