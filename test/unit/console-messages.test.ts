/**
 * The console's message catalogue: German has every English key and no other, with the same
 * placeholders, and no text is empty — a page never falls back to English or shows a raw key.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the catalogues are the browser's plain ES modules, without types
import en from '../../cloud/dashboard/static/console/messages/en/index.js';
// @ts-expect-error: as above
import de from '../../cloud/dashboard/static/console/messages/de/index.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('console message catalogue', () => {
  it('has the same keys in English and German', () => {
    expect(Object.keys(de as object).sort()).toEqual(Object.keys(en as object).sort());
  });

  it('fills the same placeholders in both languages and has no empty text', () => {
    for (const [key, text] of Object.entries(en as Record<string, string>)) {
      const other = (de as Record<string, string>)[key]!;
      expect(text.trim(), key).not.toBe('');
      expect(other.trim(), key).not.toBe('');
      expect(placeholders(other), key).toEqual(placeholders(text));
    }
  });
});
