/* global document, location, history, window, AbortController, URLSearchParams */
// The console: log in (password, or the institution's sign-in), then the pages of the account's
// role under hash routes (#/admin/accounts?q=…). Each page is a module in pages/ with
//   export async function render(main, ctx)
// where ctx = {me, query (URLSearchParams of the route), navigate(path, params), setTitle(text),
// signal (aborted when the page is left: stop polling and streams)}. The page renders into
// `main`, starting with its <h1>.
import { api, auth, exchangeSignInCode, institutionSignIn, login, whenUnauthorized } from '/dashboard/dashboard-api.js';
import { h, attempt, field } from './dom.js';
import { language, ready, setLanguage, t } from './i18n.js';
import { GROUPS, HOME, ROUTES } from './routes.js';

const $ = (id) => document.getElementById(id);
const state = { me: null, page: null, institution: null };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q = ''] = raw.split('?');
  return { path, query: new URLSearchParams(q) };
}

export function navigate(path, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  location.hash = `#/${path}${q ? `?${q}` : ''}`;
}

function frameText() {
  document.documentElement.lang = language();
  $('lang').value = language();
  $('lang-label').textContent = t('app.language');
  $('skip-link').textContent = t('app.skip');
  $('brand').textContent = t('app.name');
  $('logout').textContent = t('app.logout');
  if (state.me) $('who').textContent = t('app.signed_in_as', { name: state.me.full_name, email: state.me.email, role: t(`role.${state.me.role}`) });
}

function renderNav(current) {
  const nav = $('nav');
  nav.setAttribute('aria-label', t('nav.label'));
  const list = h('ul');
  for (const [group, label] of GROUPS) {
    const routes = ROUTES.filter((r) => r.nav && r.roles.includes(state.me.role) && r.path.startsWith(`${group}/`));
    if (!routes.length) continue;
    list.append(h('li', { class: 'group', attrs: { 'aria-hidden': 'true' }, text: t(label) }));
    for (const r of routes) {
      list.append(h('li', {}, h('a', { href: `#/${r.path}`, text: t(r.nav), attrs: { 'aria-current': r.path === current ? 'page' : undefined } })));
    }
  }
  nav.replaceChildren(list);
  nav.hidden = false;
}

async function showRoute({ focus = true } = {}) {
  if (!state.me) return;
  state.page?.abort();
  const { path, query } = parseHash();
  if (!path) return navigate(HOME[state.me.role]);
  const route = ROUTES.find((r) => r.path === path);
  renderNav(route?.path);
  const main = $('main');
  const controller = new AbortController();
  state.page = controller;
  const hash = location.hash;
  // While a page renders (its module, then its data) main is busy; once it is done main says which
  // route it shows (data-rendered), for assistive technology and for the browser tests alike.
  const done = () => {
    if (state.page !== controller) return;
    main.removeAttribute('aria-busy');
    main.dataset.rendered = hash;
  };
  const setTitle = (text) => (document.title = `${text} — ${t('app.name')}`);
  const problem = (text) => {
    main.replaceChildren(h('h1', { text: t('app.name') }), h('p', { class: 'error', attrs: { role: 'alert' }, text }));
    done();
  };
  if (!route) return problem(t('error.not_found'));
  if (!route.roles.includes(state.me.role)) return problem(t('error.forbidden'));
  setTitle(t(route.nav));
  main.setAttribute('aria-busy', 'true');
  delete main.dataset.rendered;
  main.replaceChildren(h('p', { text: t('app.loading') }));
  try {
    const page = await import(route.module);
    if (controller.signal.aborted) return;
    main.replaceChildren();
    await page.render(main, { me: state.me, query, navigate, setTitle, signal: controller.signal });
    done();
  } catch (e) {
    if (!controller.signal.aborted) problem(t('error.page', { message: e.message }));
  }
  if (focus && !controller.signal.aborted) main.focus();
}

function showLogin(text = '') {
  state.page?.abort();
  state.me = null;
  auth.token = null;
  for (const id of ['nav', 'who', 'logout']) $(id).hidden = true;
  document.title = `${t('login.title')} — ${t('app.name')}`;
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', attrs: { role: 'alert' }, text });
  const submit = h('button', { type: 'submit', text: t('login.submit') });
  const form = h('form', { noValidate: true }, field(t('login.email'), email), field(t('login.password'), password), submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await attempt(submit, error, async () => {
      await login(email.value.trim(), password.value);
      password.value = '';
      await start();
    });
  });
  const card = h('section', { class: 'card narrow', attrs: { 'aria-labelledby': 'login-h' } }, h('h1', { id: 'login-h', text: t('login.title') }), form);
  if (state.institution?.enabled) {
    card.append(h('p', {}, h('a', { class: 'button', href: '/api/v1/auth/oidc/login?return_to=/console', text: t('login.institution', { name: state.institution.name }) })));
  }
  $('main').replaceChildren(card);
}
// Only a logged-in page's 401 means the session ended; a refused login says so in its own form.
whenUnauthorized(() => state.me && showLogin(t('login.ended')));

async function start() {
  state.me = await api('/api/v1/auth/me');
  for (const id of ['who', 'logout']) $(id).hidden = false;
  frameText();
  await showRoute();
}

$('lang').addEventListener('change', async () => {
  await setLanguage($('lang').value);
  frameText();
  if (state.me) showRoute({ focus: false });
  else showLogin();
});
$('logout').addEventListener('click', () => showLogin());
window.addEventListener('hashchange', () => showRoute());

// Back from the institution's sign-in: the one-time code is in the fragment (never sent to a
// server); it is dropped from the address bar and exchanged for the token.
const signInCode = /^#oidc_code=([\w-]+)$/.exec(location.hash)?.[1];
if (signInCode) history.replaceState(null, '', location.pathname + location.search);
await ready;
frameText();
state.institution = await institutionSignIn().catch(() => null);
const fail = (e) => showLogin(e.message);
if (signInCode) exchangeSignInCode(signInCode).then(start).catch(fail);
else if (auth.token) start().catch(fail);
else showLogin();
