/**
 * The analytics reports at the edges of the calendar (1970-01-01 … 9999-12-31): a date, month or
 * default range outside it is a clear 400, and a range that ends on its last day is an ordinary,
 * empty report — never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';

let h: CloudHarness;
let f: CourseFixture;
beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 1 });
});
afterAll(() => h.close());

const A = '/api/v1/teacher/analytics';
const get = (url: string) => h.http().get(url).set(f.teacher.auth);

describe('analytics calendar edges', () => {
  it('analytics at calendar edges answers 400, not 500', async () => {
    const cases: Array<[string, string, string]> = [
      [`${A}/attendance_trends?course_id=${f.courseId}&from=9999-12-31`, 'invalid_range', ''], // the default end is 10000-01-27
      [`${A}/attendance_trends?course_id=${f.courseId}&to=1970-01-01`, 'invalid_range', ''], // the default start is 1969-12-05
      [`${A}/attendance_trends?course_id=${f.courseId}&from=0000-01-01`, 'validation_error', 'from'],
      [`${A}/daily_class_report?date=0000-01-01`, 'validation_error', 'date'],
      [`${A}/attendance_percentage?course_id=${f.courseId}&month=0000-01`, 'validation_error', 'month'],
      [`${A}/attendance_percentage?course_id=${f.courseId}&month=1969-12`, 'validation_error', 'month'],
    ];
    for (const [url, code, field] of cases) {
      const res = await get(url);
      expect({ url, status: res.status, code: res.body.error?.code }).toEqual({ url, status: 400, code });
      if (field) expect(res.body.error.details).toEqual([{ path: field, message: expect.stringMatching(/from 1970-01(-01)? to 9999-12(-31)?$/) }]);
    }
  });

  it('a range that ends on the last calendar day answers an empty report', async () => {
    const trends = await get(`${A}/attendance_trends?course_id=${f.courseId}&to=9999-12-31`);
    expect(trends.status).toBe(200);
    expect(trends.body).toMatchObject({ from: '9999-12-04', to: '9999-12-31' });
    expect(trends.body.items).toHaveLength(28);
    const daily = await get(`${A}/daily_class_report?date=9999-12-31`);
    expect(daily.status).toBe(200);
    expect(daily.body.items).toEqual([]);
    const month = await get(`${A}/attendance_percentage?course_id=${f.courseId}&month=9999-12`);
    expect(month.status).toBe(200);
    expect(month.body).toMatchObject({ from: '9999-12-01', to: '9999-12-31', sessions_held: 0 });
    const first = await get(`${A}/attendance_percentage?course_id=${f.courseId}&month=1970-01`);
    expect(first.status).toBe(200);
  });
});
