/* global localStorage, navigator, document */
// The console's one message catalogue per language (messages/<lang>/<part>.js, merged in
// messages/<lang>/index.js) and the formatting of numbers and dates in the chosen language. Every
// text on the console's pages comes from t(); a key missing from a language falls back to English,
// a key missing from English shows the key itself so that a test notices it. English is always
// loaded (the fallback); another language only when it is chosen.
import en from './messages/en/index.js';

/** The languages offered, by code; each is messages/<code>/index.js. */
export const LANGUAGES = ['en', 'de'];
const loaded = { en };
const LANG_KEY = 'attendance.lang';

function preferredLanguage() {
  const saved = localStorage.getItem(LANG_KEY);
  if (LANGUAGES.includes(saved)) return saved;
  for (const l of navigator.languages ?? []) {
    const base = l.slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

let lang = 'en';

export function language() {
  return lang;
}

/** Switches to `next` (loading its catalogue first); `remember` keeps the choice in this browser. */
export async function setLanguage(next, { remember = true } = {}) {
  if (!LANGUAGES.includes(next)) return;
  loaded[next] ??= (await import(`./messages/${next}/index.js`)).default;
  lang = next;
  if (remember) localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

/** The language the browser or an earlier choice asks for, loaded. */
export const ready = setLanguage(preferredLanguage(), { remember: false });

/** The text of `key` with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = loaded[lang][key] ?? loaded.en[key] ?? key;
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
