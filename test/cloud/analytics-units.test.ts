/**
 * The pure parts of analytics: local-day arithmetic across DST changes (with a property test),
 * the percentage definition, trend zero-filling, CSV escaping.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, localDateOf, localDateRange, monthDays, parseLocalDate, startOfLocalDay, weekStartOf } from '../../cloud/domain/analytics-calendar.js';
import { attendancePercentage, isBelowMinimum, studentPercentages, trendSeries } from '../../cloud/domain/analytics.js';
import { csvField, toCsv } from '../../cloud/http/csv.js';

describe('local days', () => {
  it('Berlin: a normal day starts at 22:00 UTC in summer and 23:00 UTC in winter', () => {
    expect(new Date(startOfLocalDay('2026-09-07', 'Europe/Berlin')).toISOString()).toBe('2026-09-06T22:00:00.000Z');
    expect(new Date(startOfLocalDay('2026-12-01', 'Europe/Berlin')).toISOString()).toBe('2026-11-30T23:00:00.000Z');
  });

  it('Berlin: the spring-forward day has 23 hours and the fall-back day 25', () => {
    const spring = localDateRange('2026-03-29', '2026-03-29', 'Europe/Berlin');
    expect((spring.endMs - spring.startMs) / 3_600_000).toBe(23);
    const autumn = localDateRange('2026-10-25', '2026-10-25', 'Europe/Berlin');
    expect((autumn.endMs - autumn.startMs) / 3_600_000).toBe(25);
  });

  it('Santiago: on the day midnight does not exist the day starts at 01:00 local', () => {
    // Chile moves clocks from 00:00 to 01:00 on Sunday 6 September 2026 (UTC-4 → UTC-3).
    expect(new Date(startOfLocalDay('2026-09-06', 'America/Santiago')).toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(localDateOf(Date.parse('2026-09-06T03:59:59Z'), 'America/Santiago')).toBe('2026-09-05');
  });

  it('every instant lies inside the local day it is reported on (any zone, any time)', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/Santiago', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Apia'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), fc.constantFrom(...zones), (t, tz) => {
        const day = localDateOf(t, tz);
        const { startMs, endMs } = localDateRange(day, day, tz);
        return startMs <= t && t < endMs && localDateOf(startMs, tz) === day;
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects dates that are not on the calendar and knows month ends and Mondays', () => {
    expect(parseLocalDate('2026-02-29')).toBeNull();
    expect(parseLocalDate('2028-02-29')).toEqual({ y: 2028, m: 2, d: 29 });
    expect(parseLocalDate('2026-9-1')).toBeNull();
    expect(monthDays('2028-02')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(monthDays('2026-13')).toBeNull();
    expect(weekStartOf('2026-09-13')).toBe('2026-09-07'); // Sunday → Monday before
    expect(weekStartOf('2026-09-07')).toBe('2026-09-07');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('percentage definition', () => {
  it('late is attended, excused leaves the denominator, nothing countable is null', () => {
    expect(attendancePercentage({ present: 1, late: 1, absent: 1, excused: 5 })).toBe(66.67);
    expect(attendancePercentage({ present: 0, late: 0, absent: 0, excused: 2 })).toBeNull();
    expect(isBelowMinimum({ present: 3, late: 0, absent: 1, excused: 0 }, 75)).toBe(false);
    expect(isBelowMinimum({ present: 2, late: 0, absent: 1, excused: 0 }, 75)).toBe(true);
    expect(isBelowMinimum({ present: 0, late: 0, absent: 0, excused: 3 }, 75)).toBe(false);
  });

  it('a student without any record is listed with zeros', () => {
    const rows = studentPercentages([{ id: 's1', email: 'a@x', full_name: 'A' }], new Map(), 75);
    expect(rows).toEqual([{ student_id: 's1', email: 'a@x', full_name: 'A', sessions_held: 0, present: 0, late: 0, absent: 0, excused: 0, attended: 0, percentage: null, below_minimum: false }]);
  });
});

describe('trend series', () => {
  it('places a session on the local day it started and zero-fills the rest', () => {
    const s = { started_at: Date.parse('2026-09-07T22:30:00Z'), present: 1, late: 0, absent: 1, excused: 0 }; // 00:30 on the 8th in Berlin
    const series = trendSeries([s], '2026-09-07', '2026-09-09', 'day', 'Europe/Berlin');
    expect(series.map((b) => [b.start, b.has_session, b.attendance_rate])).toEqual([['2026-09-07', false, null], ['2026-09-08', true, 50], ['2026-09-09', false, null]]);
    expect(trendSeries([s], '2026-09-07', '2026-09-09', 'day', 'UTC')[0]!.has_session).toBe(true);
  });
});

describe('CSV', () => {
  it('quotes commas, quotes and line breaks, and disarms spreadsheet formulas in text', () => {
    expect(csvField('Smith, Jo')).toBe('"Smith, Jo"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
    expect(toCsv([{ header: 'a', value: (r: { a: number }) => r.a }], [{ a: 1 }, { a: 2 }])).toBe('a\r\n1\r\n2\r\n');
  });
});
