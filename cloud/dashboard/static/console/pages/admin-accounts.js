/* global URLSearchParams */
// Administration: accounts. Searching by name or e-mail and filtering by role (on the server,
// a page at a time), creating an account (it is mailed a link to choose its password), changing
// a role, deactivating and reactivating (confirmed in a dialog first) and mailing a password
// reset link. Every action says what happened and the table shows the account as it now is.
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, attempt, errorText, field, select, table } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { confirmAction, fieldErrors, labelled } from '../forms.js';

const PAGE_SIZE = 20;
const ROLES = ['student', 'teacher', 'admin'];
const roleOptions = () => ROLES.map((r) => [r, t(`role.${r}`)]);

function statusChip(u) {
  return u.deactivated_at === null
    ? h('span', { class: 'status-chip status-online', text: t('accounts.active') })
    : h('span', { class: 'status-chip status-offline', text: t('accounts.deactivated') });
}

/** The form for a new account; `onCreated(account)` after it is made. */
function createForm(notice, onCreated) {
  const name = h('input', { name: 'full_name', required: true, maxLength: 200, autocomplete: 'off' });
  const email = h('input', { name: 'email', type: 'email', required: true, maxLength: 254, autocomplete: 'off' });
  const role = select(roleOptions(), { name: 'role', value: 'student' });
  const error = h('p', { class: 'error', attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', text: t('accounts.create') });
  const fields = { full_name: labelled(t('accounts.name'), name), email: labelled(t('accounts.email'), email), role: labelled(t('accounts.role'), role, t('accounts.create_hint')) };
  const errors = fieldErrors(fields);
  const form = h('form', { noValidate: true, class: 'accounts-create' }, Object.values(fields).map(([wrap]) => wrap), submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const missing = [[name, 'accounts.name_missing'], [email, 'accounts.email_missing']].find(([el]) => !el.value.trim() || !el.checkValidity());
    errors.clear();
    if (missing) {
      missing[0].setAttribute('aria-invalid', 'true');
      error.textContent = t(missing[1]);
      missing[0].focus();
      return;
    }
    let created;
    const ok = await errors.run(submit, error, async () => {
      created = await api('/api/v1/admin/users', { method: 'POST', body: { full_name: name.value.trim(), email: email.value.trim(), role: role.value } });
    });
    if (!ok) return;
    name.value = '';
    email.value = '';
    const text = created.password_link_sent ? t('accounts.created', { email: created.email }) : t('accounts.created_no_mail', { email: created.email });
    notice(text);
    await onCreated(created);
  });
  return h('section', { class: 'card', attrs: { 'aria-labelledby': 'accounts-new-h' } }, h('h2', { id: 'accounts-new-h', text: t('accounts.new') }), form);
}

export async function render(main, ctx) {
  const q = ctx.query.get('q') ?? '';
  const roleFilter = ROLES.includes(ctx.query.get('role')) ? ctx.query.get('role') : '';
  const page = Math.max(0, Number.parseInt(ctx.query.get('page') ?? '0', 10) || 0);

  const listBox = h('div');
  const listError = h('p', { class: 'error', attrs: { role: 'alert' } });
  const done = h('p', { class: 'ok accounts-done' });
  /** Says what happened: to screen readers (the live region) and on the page. */
  const notice = (text) => {
    done.textContent = text;
    announce(text);
  };

  const search = h('input', { name: 'q', type: 'search', value: q, maxLength: 200, autocomplete: 'off' });
  const role = select([['', t('accounts.all_roles')], ...roleOptions()], { name: 'role', value: roleFilter });
  const searchForm = h('form', { class: 'toolbar', attrs: { role: 'search', 'aria-label': t('accounts.search_label') } },
    field(t('accounts.search'), search), field(t('accounts.filter_role'), role), h('button', { type: 'submit', text: t('common.search') }));
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = { q: search.value.trim(), role: role.value };
    // The same search again changes no address, so it only reads the list anew.
    if (next.q === q && next.role === roleFilter && page === 0) refresh();
    else ctx.navigate('admin/accounts', next);
  });

  async function act(button, fn, text) {
    done.textContent = '';
    const ok = await attempt(button, listError, fn);
    if (!ok) return;
    notice(text);
    await refresh();
  }

  function actions(u) {
    const who = u.full_name;
    const roleSelect = select(roleOptions(), { value: u.role, attrs: { 'aria-label': t('accounts.role_of', { name: who }) } });
    const saveRole = h('button', { type: 'button', class: 'small secondary', text: t('accounts.change_role'), attrs: { 'aria-label': t('accounts.change_role_of', { name: who }) } });
    saveRole.addEventListener('click', () => {
      if (roleSelect.value === u.role) return notice(t('accounts.role_same', { name: who, role: t(`role.${u.role}`) }));
      return act(saveRole, () => api(`/api/v1/admin/users/${encodeURIComponent(u.id)}/role`, { method: 'PUT', body: { role: roleSelect.value } }),
        t('accounts.role_changed', { name: who, role: t(`role.${roleSelect.value}`) }));
    });
    const active = u.deactivated_at === null;
    const toggle = h('button', { type: 'button', class: active ? 'small danger' : 'small secondary', text: active ? t('accounts.deactivate') : t('accounts.reactivate'), attrs: { 'aria-label': t(active ? 'accounts.deactivate_of' : 'accounts.reactivate_of', { name: who }) } });
    toggle.addEventListener('click', async () => {
      done.textContent = '';
      const { confirmed } = await confirmAction({
        ...(active
          ? { title: t('accounts.deactivate_title', { name: who }), text: t('accounts.deactivate_text'), confirm: t('accounts.deactivate') }
          : { title: t('accounts.reactivate_title', { name: who }), text: t('accounts.reactivate_text'), confirm: t('accounts.reactivate') }),
        action: () => api(`/api/v1/admin/users/${encodeURIComponent(u.id)}/${active ? 'deactivate' : 'reactivate'}`, { method: 'POST' }),
        signal: ctx.signal,
      });
      if (!confirmed) return;
      notice(t(active ? 'accounts.deactivated_done' : 'accounts.reactivated_done', { name: who }));
      await refresh();
    });
    const reset = h('button', { type: 'button', class: 'small secondary', text: t('accounts.reset'), disabled: !active, attrs: { 'aria-label': t('accounts.reset_of', { name: who }) } });
    reset.addEventListener('click', () => act(reset, () => api(`/api/v1/admin/users/${encodeURIComponent(u.id)}/password-reset`, { method: 'POST' }),
      t('accounts.reset_sent', { email: u.email })));
    return [h('div', { class: 'actions accounts-actions' }, roleSelect, saveRole), h('div', { class: 'actions accounts-actions' }, toggle, reset)];
  }

  function pager(total) {
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const to = (n) => () => ctx.navigate('admin/accounts', { q, role: roleFilter, page: n || undefined });
    return h('nav', { class: 'pager', attrs: { 'aria-label': t('accounts.pages') } },
      h('button', { type: 'button', class: 'secondary', text: t('common.previous'), disabled: page === 0, on: { click: to(page - 1) } }),
      h('span', { text: t('accounts.page_of', { n: fmt.number(page + 1), pages: fmt.number(pages) }) }),
      h('button', { type: 'button', class: 'secondary', text: t('common.next'), disabled: page + 1 >= pages, on: { click: to(page + 1) } }));
  }

  async function refresh() {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(page * PAGE_SIZE) });
    if (q) params.set('q', q);
    if (roleFilter) params.set('role', roleFilter);
    let res;
    try {
      res = await api(`/api/v1/admin/users?${params}`);
    } catch (e) {
      listError.textContent = errorText(e);
      return;
    }
    const found = h('p', { class: 'muted', text: q || roleFilter ? t('accounts.found', { n: fmt.number(res.total) }) : t('accounts.count', { n: fmt.number(res.total) }) });
    listBox.replaceChildren(found, table({
      caption: t('accounts.caption'),
      empty: q || roleFilter ? t('accounts.none_found') : t('common.none'),
      rows: res.items,
      columns: [
        { label: t('accounts.name'), header: true, cell: (u) => u.full_name },
        { label: t('accounts.email'), cell: (u) => u.email },
        { label: t('accounts.role'), cell: (u) => t(`role.${u.role}`) },
        { label: t('accounts.status'), cell: statusChip },
        { label: t('accounts.created_at'), cell: (u) => fmt.date(new Date(u.created_at).toISOString(), res.timezone) },
        { label: t('common.actions'), class: 'accounts-actions-cell', cell: actions },
      ],
    }), ...(res.total > PAGE_SIZE || page > 0 ? [pager(res.total)] : []));
  }

  main.append(
    h('h1', { text: t('accounts.title') }),
    done,
    createForm(notice, () => refresh()),
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'accounts-list-h' } }, h('h2', { id: 'accounts-list-h', text: t('accounts.list') }), searchForm, listError, listBox),
  );
  await refresh();
}
