/** Password and name rules of the API's schemas: weak passwords and invisible or reordering characters in names are refused. */
import { describe, expect, it } from 'vitest';
import { displayText, fullName, password } from '../../cloud/http/schemas.js';

const refusal = (schema: typeof password | typeof fullName, value: string) => {
  const r = schema.safeParse(value);
  return r.success ? null : r.error.issues.map((i) => i.message).join('; ');
};

describe('password rules', () => {
  it('refuses a password of only spaces', () => {
    expect(refusal(password, ' '.repeat(10))).toBe('must not be only spaces');
    expect(refusal(password, ' \t \u00a0      ')).toBe('must not be only spaces');
  });

  it('refuses one character repeated', () => {
    expect(refusal(password, '1111111111')).toBe('must not be one character repeated');
    expect(refusal(password, 'ééééééééééé')).toBe('must not be one character repeated');
  });

  it('refuses the most common passwords, whatever their case', () => {
    for (const p of ['1234567890', 'qwertyuiop', 'Password123', 'IloveYou12']) expect(refusal(password, p)).toMatch(/most common/);
  });

  it('keeps the minimum length and accepts a passphrase', () => {
    expect(refusal(password, 'short')).toBe('must be at least 10 characters');
    expect(refusal(password, 'correct horse battery')).toBeNull();
    expect(refusal(password, '  leading spaces are fine')).toBeNull();
  });
});

describe('name rules', () => {
  it('refuses control characters, NUL among them', () => {
    for (const n of ['Ana\u0000Lind', 'Ana\nLind', 'Ana\u0007', '\u007f']) expect(refusal(fullName, n)).toMatch(/control, zero-width or text-direction/);
  });

  it('refuses zero-width characters', () => {
    for (const n of ['Ana\u200bLind', 'An\ufeffa', 'Ana\u2060', 'Ana\u200c', '\u200dAna', 'Ana \u200cLind', 'A\u200c\u200cna']) expect(refusal(fullName, n)).toMatch(/zero-width/);
  });

  it('keeps the joiners that names are spelled with (between two letters or marks)', () => {
    for (const n of ['\u0645\u06CC\u0631\u0632\u0627\u200C\u0632\u0627\u062F\u0647', '\u0915\u094D\u200D\u0937', 'A\u200cna']) expect(fullName.parse(n)).toBe(n.normalize('NFC'));
  });

  it('refuses bidi overrides, isolates and marks', () => {
    for (const n of ['Ana \u202egnilL', 'Ana\u202d', '\u2066Ana\u2069', '\u2067x', '\u200fAna', 'Ana\u061c']) expect(refusal(fullName, n)).toMatch(/text-direction/);
  });

  it('normalises to NFC and trims, and keeps every script', () => {
    expect(fullName.parse('  Zoe\u0301 Lind \u00a0')).toBe('Zo\u00e9 Lind');
    for (const n of ['李小龙', 'Ольга Петрова', 'محمد', 'Siobhán Ó Súilleabháin']) expect(fullName.parse(n)).toBe(n);
    expect(refusal(fullName, '   ')).not.toBeNull();
  });

  it('applies to other display names by the same schema', () => {
    expect(displayText(100).safeParse('Room \u202e101').success).toBe(false);
    expect(displayText(100).parse(' Aula Magna ')).toBe('Aula Magna');
  });
});
