import { describe, expect, it } from 'vitest';
import { isValidTimeZone } from '../../shared/time-zone.js';

describe('time zones', () => {
  it('accepts IANA names and UTC, refuses anything else', () => {
    expect(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires'].map(isValidTimeZone)).toEqual([true, true, true]);
    expect(['Mars/Olympus', '', 'Europe/Berlin '].map(isValidTimeZone)).toEqual([false, false, false]);
  });
});
