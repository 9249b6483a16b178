// Student: my devices. The passkeys enrolled for me with their state (waiting for approval,
// approved, revoked), enrolling a passkey in this browser, and revoking a lost phone myself
// (after a confirmation in a dialog).
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, attempt, field, table } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { confirmAction } from '../forms.js';
import { createPasskey, passkeysSupported } from './student-passkey.js';

const STATE_CLASS = { active: 'status-present', pending: 'status-pending', revoked: 'status-absent' };

/** The browser's refusals of navigator.credentials.create() in plain words. */
function ceremonyError(e) {
  if (e?.name === 'InvalidStateError') return t('student.devices.enrol.error.exists');
  if (e?.name === 'NotAllowedError' || e?.name === 'AbortError') return t('student.devices.enrol.error.cancelled');
  if (e?.name === 'SecurityError' || e?.name === 'NotSupportedError') return t('student.devices.enrol.error.unsupported');
  return t('student.devices.enrol.error.other', { message: e?.message ?? String(e) });
}

function deviceList(onChange) {
  const box = h('div');
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });

  async function revoke(device, button) {
    const { confirmed: yes } = await confirmAction({
      title: t('student.devices.revoke.title', { name: device.device_name ?? t('student.devices.unnamed') }),
      text: t('student.devices.revoke.text'),
      confirm: t('student.devices.revoke.confirm'),
    });
    if (!yes) return;
    const ok = await attempt(button, alert, () => api(`/api/v1/student/biometric/devices/${encodeURIComponent(device.id)}/revoke`, { method: 'POST', body: {} }));
    if (ok) {
      announce(t('student.devices.revoke.done', { name: device.device_name ?? t('student.devices.unnamed') }));
      await onChange();
      heading.focus(); // the button is gone with the refreshed list

    }
  }

  async function refresh() {
    const { items } = await api('/api/v1/student/biometric/devices');
    const list = table({
      caption: t('student.devices.list.caption'),
      empty: t('student.devices.list.empty'),
      rows: [...items].reverse(),
      columns: [
        { label: t('student.devices.name'), header: true, cell: (d) => d.device_name ?? t('student.devices.unnamed') },
        { label: t('student.devices.state'), cell: (d) => h('span', { class: `status-chip ${STATE_CLASS[d.status] ?? ''}`, text: t(`student.devices.state.${d.status}`) }) },
        { label: t('student.devices.meaning'), cell: (d) => t(`student.devices.state_meaning.${d.status}`), class: 'wrap' },
        { label: t('student.devices.enrolled'), cell: (d) => fmt.date(d.created_at) },
        { label: t('student.devices.last_used'), cell: (d) => (d.last_used_at ? fmt.date(d.last_used_at) : t('student.devices.never')) },
        { label: t('student.devices.kind'), cell: (d) => t(d.backup_eligible ? 'student.devices.kind.synced' : 'student.devices.kind.bound') },
        {
          label: t('common.actions'),
          cell: (d) => (d.status === 'revoked'
            ? '—'
            : h('button', { type: 'button', class: 'danger small', text: t('student.devices.revoke.button'), attrs: { 'aria-label': t('student.devices.revoke.button_label', { name: d.device_name ?? t('student.devices.unnamed') }) }, on: { click: (e) => revoke(d, e.currentTarget) } })),
        },
      ],
    });
    list.classList.add('student-table');
    box.replaceChildren(list);
    return items;
  }

  const heading = h('h2', { id: 'devices-list-h', tabIndex: -1, text: t('student.devices.list.title') });
  const section = h('section', { class: 'card', attrs: { 'aria-labelledby': 'devices-list-h' } }, heading, box, alert);
  return { section, refresh };
}

function enrolForm(onEnrolled, signal) {
  const name = h('input', { name: 'device_name', maxLength: 100, autocomplete: 'off' });
  const submit = h('button', { type: 'submit', text: t('student.devices.enrol.submit') });
  const error = h('p', { class: 'error', attrs: { role: 'alert' } });
  const done = h('p', { class: 'ok', attrs: { role: 'status' } });
  const form = h('form', { noValidate: true },
    field(t('student.devices.enrol.name'), name, { hint: t('student.devices.enrol.name_hint') }), submit, error, done);
  const section = h('section', { class: 'card', attrs: { 'aria-labelledby': 'devices-enrol-h' } },
    h('h2', { id: 'devices-enrol-h', text: t('student.devices.enrol.title') }),
    h('p', { text: t('student.devices.enrol.intro') }),
    h('p', { class: 'muted', text: t('student.devices.enrol.privacy') }));
  if (!passkeysSupported()) {
    section.append(h('p', { class: 'error', attrs: { role: 'alert' }, text: t('student.devices.enrol.error.unsupported') }));
    return section;
  }
  section.append(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    done.textContent = '';
    if (name.value.trim().length > 100) {
      error.textContent = t('student.devices.enrol.error.name_long');
      return;
    }
    let message = null;
    // attempt() shows the API's refusals; the browser's own refusal is said here in plain words.
    await attempt(submit, error, async () => {
      const { options } = await api('/api/v1/student/biometric/register/options', { method: 'POST', body: {} });
      let credential;
      try {
        credential = await createPasskey(options, signal);
      } catch (e) {
        error.textContent = ceremonyError(e);
        return;
      }
      const body = { credential, ...(name.value.trim() ? { device_name: name.value.trim() } : {}) };
      const res = await api('/api/v1/student/biometric/register', { method: 'POST', body });
      message = t(res.needs_approval ? 'student.devices.enrol.done_pending' : 'student.devices.enrol.done_active');
    });
    if (message) {
      name.value = '';
      done.textContent = message;
      await onEnrolled();
    }
  });
  return section;
}

export async function render(main, ctx) {
  const list = deviceList(() => list.refresh());
  main.append(
    h('h1', { text: t('student.devices.title') }),
    h('p', { text: t('student.devices.intro') }),
    list.section,
    enrolForm(() => list.refresh(), ctx.signal),
  );
  await list.refresh();
}
