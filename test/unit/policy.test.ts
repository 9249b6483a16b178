import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_POLICY, decide } from '../../cloud/domain/policy.js';
import { checkWindow, windowsOverlapping } from '../../cloud/domain/submission.js';

const MIN = 60_000;
const START = Date.UTC(2026, 8, 7, 8, 0, 30);
// The biometric requirement is tested on its own below; the presence rules are tested without it.
const POLICY = { ...DEFAULT_POLICY, requireBiometric: false };
const base = { startedAt: START, until: START + 60 * MIN, periodS: 300, verified: false, policy: POLICY };
const w0 = Math.floor(START / 300_000);

describe('attendance decision', () => {
  it('counts the windows overlapping the session as the denominator', () => {
    // [08:00:30, 09:00:30) overlaps the 5-minute windows 08:00 .. 09:00: 13 of them.
    expect(windowsOverlapping(base.startedAt, base.until, 300)).toEqual({ first: w0, last: w0 + 12, count: 13 });
  });

  it('is present at exactly the minimum presence, absent one window below', () => {
    // ceil(0.75 * 13) = 10 windows.
    expect(decide({ ...base, acceptedWindows: range(w0, 10) })).toMatchObject({ status: 'present', windowsSeen: 10, windowsTotal: 13 });
    expect(decide({ ...base, acceptedWindows: range(w0, 9) })).toMatchObject({ status: 'absent', reasons: ['presence_low'] });
  });

  it('is late when the first accepted window began 10 minutes or more after the start', () => {
    // Window w0+2 begins at 08:10:00, 9.5 minutes after 08:00:30: not late. w0+3 (08:15) is.
    expect(decide({ ...base, acceptedWindows: range(w0 + 2, 11) }).status).toBe('present');
    expect(decide({ ...base, acceptedWindows: range(w0 + 3, 10) })).toMatchObject({ status: 'late', reasons: ['presence_ok', 'late_arrival'] });
  });

  it('requires a verification when the course does, and says so', () => {
    const policy = { ...POLICY, requireBiometric: true };
    expect(decide({ ...base, policy, acceptedWindows: range(w0, 13) })).toMatchObject({ status: 'absent', reasons: ['presence_ok', 'verification_missing'] });
    expect(decide({ ...base, policy, verified: true, acceptedWindows: range(w0, 13) })).toMatchObject({ status: 'present', reasons: ['presence_ok', 'verified'] });
  });

  it('ignores duplicates and windows outside the session', () => {
    const d = decide({ ...base, acceptedWindows: [w0 - 1, w0, w0, w0 + 13, w0 + 1] });
    expect(d.windowsSeen).toBe(2);
  });

  it('never counts more presence than windows, and more windows never make a decision worse', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: w0 - 3, max: w0 + 16 }), { maxLength: 40 }), fc.integer({ min: w0, max: w0 + 12 }), (ws, extra) => {
        const d = decide({ ...base, acceptedWindows: ws });
        expect(d.presence).toBeGreaterThanOrEqual(0);
        expect(d.presence).toBeLessThanOrEqual(1);
        const more = decide({ ...base, acceptedWindows: [...ws, extra] });
        expect(more.windowsSeen).toBeGreaterThanOrEqual(d.windowsSeen);
        if (d.status !== 'absent') expect(more.status).not.toBe('absent');
      }),
    );
  });
});

describe('window acceptance', () => {
  const session = { startedAt: START, endedAt: null, periodS: 60, graceS: 60 };
  const w = (ms: number) => Math.floor(ms / 60_000);

  it('accepts the current window and the previous one within the grace period only', () => {
    const t = START + 10 * MIN;
    expect(checkWindow(session, w(t), t)).toEqual({ ok: true });
    expect(checkWindow(session, w(t) - 1, w(t) * 60_000 + 59_999)).toEqual({ ok: true });
    expect(checkWindow(session, w(t) - 1, w(t) * 60_000 + 60_000)).toMatchObject({ ok: false, code: 'window_expired' });
    expect(checkWindow(session, w(t) - 2, t)).toMatchObject({ ok: false, code: 'window_expired' });
    expect(checkWindow(session, w(t) + 1, t)).toMatchObject({ ok: false, code: 'window_in_future' });
  });

  it('refuses windows outside the session even when they are current', () => {
    const ended = { ...session, endedAt: START + 5 * MIN };
    const t = START + 6 * MIN;
    expect(checkWindow(ended, w(t), t)).toMatchObject({ ok: false, code: 'window_outside_session' });
  });

  it('accepts only windows at or one behind the server window, whatever the client says', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 120 * MIN }), fc.integer({ min: -5, max: 5 }), (offset, dw) => {
        const t = START + offset;
        const r = checkWindow(session, w(t) + dw, t);
        if (r.ok) expect([0, -1]).toContain(dw);
      }),
    );
  });
});

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}
