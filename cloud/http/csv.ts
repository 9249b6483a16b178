/**
 * CSV answers (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes
 * doubled) and the choice between JSON and CSV for one request.
 */
import type { Context } from 'koa';

export type CsvValue = string | number | boolean | null | undefined;

export interface CsvColumn<T> {
  header: string;
  value: (row: T) => CsvValue;
}

/**
 * Spreadsheets run a cell starting with = + - @ (or a tab / CR) as a formula; student names are
 * user input, so such text cells get a leading apostrophe (OWASP "CSV injection"). Numbers are
 * written as numbers and never prefixed, so -1 stays a number.
 */
function neutralise(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'string' ? neutralise(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvField(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(c.value(row))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/**
 * CSV when `?format=csv`, or when the Accept header prefers text/csv over JSON; an explicit
 * `format=json` wins over the header. Browsers sending *\/* get JSON.
 */
export function wantsCsv(ctx: Context, format: 'json' | 'csv' | undefined): boolean {
  if (format) return format === 'csv';
  return ctx.accepts('application/json', 'text/csv') === 'text/csv';
}

/** Sends a CSV attachment; the filename is built by the caller from safe parts only. */
export function sendCsv(ctx: Context, filename: string, body: string): void {
  ctx.status = 200;
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}
