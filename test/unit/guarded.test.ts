import { describe, expect, it } from 'vitest';
import { guarded } from '../../shared/guarded.js';

describe('guarded', () => {
  it('runs the callback, and logs a throw with what failed instead of passing it on', () => {
    const errors: Array<{ obj: object; msg: string }> = [];
    const log = { error: (obj: object, msg: string) => errors.push({ obj, msg }) };
    let ran = false;
    guarded(log, 'prune', 'prune failed', () => void (ran = true));
    expect(ran).toBe(true);
    expect(errors).toEqual([]);
    const err = new Error('disk gone');
    expect(() =>
      guarded(log, 'start', 'timetable action failed', () => {
        throw err;
      }),
    ).not.toThrow();
    expect(errors).toEqual([{ obj: { err, what: 'start' }, msg: 'timetable action failed' }]);
  });
});
