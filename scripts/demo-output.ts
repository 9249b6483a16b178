/** Console output of the demo: timestamped progress lines and the attendance table. */
const started = Date.now();

export function say(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${t}s] ${line}`);
}

export interface AttendanceRow {
  full_name: string;
  status: string;
  presence: number;
  windows_seen: number;
  windows_total: number;
  first_seen: string | null;
  reasons: string[];
}

export function printAttendance(rows: AttendanceRow[]): void {
  const header = ['student', 'status', 'presence', 'windows', 'first seen (UTC)', 'reasons'];
  const body = rows.map((r) => [
    r.full_name, r.status.toUpperCase(), `${Math.round(r.presence * 100)}%`, `${r.windows_seen}/${r.windows_total}`,
    r.first_seen ? r.first_seen.slice(11, 19) : '-', r.reasons.join(', '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of body) console.log(line(row));
  console.log('');
}
