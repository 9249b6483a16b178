/* global localStorage, navigator, document */
// The console's one message catalogue per language (messages/<lang>/<section>.js, merged here)
// and the formatting of numbers and dates in the chosen language. Every text on the console's
// pages comes from t(); a key missing from a language falls back to English, a key missing from
// English shows the key itself so that a test notices it.
import en from './messages/en/index.js';
import de from './messages/de/index.js';

export const CATALOGUES = { en, de };
const LANG_KEY = 'attendance.lang';

function initialLanguage() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && CATALOGUES[saved]) return saved;
  for (const l of navigator.languages ?? []) {
    const base = l.slice(0, 2).toLowerCase();
    if (CATALOGUES[base]) return base;
  }
  return 'en';
}

let lang = initialLanguage();

export function language() {
  return lang;
}

export function setLanguage(next) {
  if (!CATALOGUES[next]) return;
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

/** The text of `key` with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = CATALOGUES[lang][key] ?? CATALOGUES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
}

/** Formatting in the chosen language; `timeZone` is the institution's (from the API's answers). */
export const fmt = {
  number: (n) => new Intl.NumberFormat(lang).format(n),
  percent: (p) => (p === null || p === undefined ? '—' : `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(p)} %`),
  date: (iso, timeZone = 'UTC') => new Intl.DateTimeFormat(lang, { timeZone, day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(iso)),
  dateTime: (iso, timeZone = 'UTC') => new Intl.DateTimeFormat(lang, { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso)),
  time: (iso, timeZone = 'UTC') => new Intl.DateTimeFormat(lang, { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso)),
};
