/* global document, location, history, window, fetch, URLSearchParams */
// The page the password mail links to (/console/reset-password.html#token=…): the account's owner
// chooses the new password here. The token comes from the fragment, which no browser sends to a
// server or in a Referer, and leaves the address bar at once; nothing happens until the person
// submits the form, so a mail scanner that follows the link changes nothing.
import { ApiError } from '/dashboard/dashboard-api.js';
import { h, announce, attempt, field } from './dom.js';
import { language, t } from './i18n.js';

const token = new URLSearchParams(location.hash.replace(/^#/, '')).get('token') ?? '';
if (location.hash) history.replaceState(null, '', location.pathname + location.search);
// A link opened again in this tab only changes the fragment: start over with its token.
window.addEventListener('hashchange', () => location.reload());

document.documentElement.lang = language();
document.title = `${t('reset.title')} — ${t('app.name')}`;
document.getElementById('brand').textContent = t('app.name');

const main = document.getElementById('main');
const error = h('p', { class: 'error', attrs: { role: 'alert' } });
const done = h('p', { class: 'ok reset-done' });
const password = h('input', { name: 'new-password', type: 'password', autocomplete: 'new-password', required: true, minLength: 10, maxLength: 256 });
const repeat = h('input', { name: 'repeat-password', type: 'password', autocomplete: 'new-password', required: true, maxLength: 256 });
const submit = h('button', { type: 'submit', text: t('reset.submit') });
const form = h('form', { noValidate: true }, h('p', { text: t('reset.intro') }),
  field(t('reset.password'), password, { hint: t('reset.password_hint') }), field(t('reset.repeat'), repeat), submit, error);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const el of [password, repeat]) el.removeAttribute('aria-invalid');
  if (password.value !== repeat.value) {
    repeat.setAttribute('aria-invalid', 'true');
    error.textContent = t('reset.mismatch');
    repeat.focus();
    return;
  }
  const ok = await attempt(submit, error, async () => {
    const res = await fetch('/api/v1/auth/password-reset', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token, new_password: password.value }),
    });
    if (res.ok) return;
    const body = await res.json().catch(() => ({}));
    const code = body?.error?.code ?? `http_${res.status}`;
    // The password's fault says which rule it broke; a spent link says what to do.
    throw new ApiError(res.status, code, code === 'invalid_reset' ? t('reset.invalid') : body?.error?.details?.[0]?.message ?? body?.error?.message ?? res.statusText);
  });
  if (!ok) {
    password.setAttribute('aria-invalid', 'true');
    return;
  }
  password.value = '';
  repeat.value = '';
  form.hidden = true;
  done.textContent = t('reset.done');
  announce(t('reset.done'));
});

const heading = h('h1', { text: t('reset.title') });
const card = h('section', { class: 'card narrow' }, heading);
if (token) card.append(form, done, h('p', {}, h('a', { href: '/console', text: t('reset.login') })));
else card.append(h('p', { class: 'error', attrs: { role: 'alert' }, text: t('reset.no_token') }), h('p', {}, h('a', { href: '/console', text: t('reset.login') })));
main.replaceChildren(card);
