// Administration: rooms and their gateways. The rooms with each one's gateway, the form for a new
// room, provisioning a room's gateway (a one-time code with its QR code, shown only once) and
// revoking it; both removals of a working gateway are confirmed in a dialog first.
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, attempt, table } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { confirmAction, fieldErrors, labelled } from '../forms.js';
import { stateChip } from './admin-fleet.js';
import { qrSvg } from './gateway-qr.js';

const forRoom = (text, room) => [text, h('span', { class: 'visually-hidden', text: ` ${t('rooms.for_room', { room: room.name })}` })];

/** The one-time code just issued for `room`: shown here once, never again. */
function codeCard(room, issued, tz, onDone) {
  const heading = h('h2', { id: 'rooms-code-h', tabIndex: -1, text: t('rooms.code.title', { room: room.name }) });
  const card = h('section', { class: 'card rooms-code', attrs: { 'aria-labelledby': 'rooms-code-h' } },
    heading,
    h('p', { class: 'rooms-once', text: t('rooms.code.once') }),
    h('dl', { class: 'facts' },
      h('dt', { text: t('rooms.code.code') }), h('dd', {}, h('code', { class: 'secret rooms-secret', text: issued.provisioning_code })),
      h('dt', { text: t('rooms.code.expires') }), h('dd', { text: fmt.dateTime(issued.expires_at, tz) }),
      h('dt', { text: t('rooms.code.command') }), h('dd', {}, h('code', { class: 'rooms-command', text: issued.provisioning_command }))),
    h('figure', { class: 'rooms-qr' },
      qrSvg(issued.provisioning_qr, t('rooms.code.qr_alt', { command: issued.provisioning_command })),
      h('figcaption', { class: 'muted', text: t('rooms.code.qr_caption') })),
    h('p', {}, t('rooms.code.next'), ' ', h('a', { href: '#/admin/fleet', text: t('rooms.code.to_fleet') })),
    h('button', { type: 'button', class: 'secondary', text: t('rooms.code.done'), on: { click: onDone } }));
  return { card, heading };
}

function roomForm(onCreated) {
  const name = h('input', { name: 'room-name', required: true, maxLength: 100, autocomplete: 'off' });
  const fields = { name: labelled(t('rooms.name'), name, t('rooms.name_hint')) };
  const errors = fieldErrors(fields);
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', text: t('rooms.create') });
  const form = h('form', { noValidate: true, class: 'rooms-form' }, fields.name[0], submit, alert);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let created;
    const ok = await errors.run(submit, alert, async () => {
      created = await api('/api/v1/admin/rooms', { method: 'POST', body: { name: name.value.trim() } });
    });
    if (!ok) return;
    name.value = '';
    announce(t('rooms.created', { room: created.name }));
    await onCreated(created);
  });
  return h('section', { class: 'card', attrs: { 'aria-labelledby': 'rooms-new-h' } }, h('h2', { id: 'rooms-new-h', text: t('rooms.new') }), form);
}

export async function render(main) {
  const listBox = h('div');
  const listError = h('p', { class: 'error rooms-problem', attrs: { role: 'alert' } });
  const codeBox = h('div');
  const state = { tz: 'UTC', shownFor: null };

  function hideCode(focusTo) {
    codeBox.replaceChildren();
    state.shownFor = null;
    focusTo?.focus();
  }

  async function provision(room, gateway, button) {
    if (gateway && !(await confirmAction({ title: t('rooms.again.title', { room: room.name }), text: t('rooms.again.text'), confirm: t('rooms.again.confirm') })).confirmed) return;
    let issued;
    const ok = await attempt(button, listError, async () => {
      issued = await api(`/api/v1/admin/rooms/${encodeURIComponent(room.id)}/gateways`, { method: 'POST', body: { mode: 'code' } });
    });
    if (!ok) return;
    const { card, heading } = codeCard(room, issued, state.tz, () => hideCode(main.querySelector('h1')));
    codeBox.replaceChildren(card);
    state.shownFor = room.id;
    heading.focus();
    announce(t('rooms.code.issued', { room: room.name }));
    await refresh().catch(() => {});
  }

  async function revoke(room, gateway, button) {
    if (!(await confirmAction({ title: t('rooms.revoke.title', { room: room.name }), text: t('rooms.revoke.text'), confirm: t('rooms.revoke.confirm') })).confirmed) return;
    const ok = await attempt(button, listError, () => api(`/api/v1/admin/gateways/${encodeURIComponent(gateway.gateway_id)}`, { method: 'DELETE', accept: '*/*' }));
    if (!ok) return;
    if (state.shownFor === room.id) hideCode();
    announce(t('rooms.revoked', { room: room.name }));
    await refresh();
    main.querySelector('h1')?.focus?.();
  }

  function actions(room, gateway) {
    const add = h('button', { type: 'button', class: 'small' }, forRoom(t(gateway ? 'rooms.provision_again' : 'rooms.provision'), room));
    add.addEventListener('click', () => provision(room, gateway, add));
    const box = h('div', { class: 'actions rooms-actions' }, add);
    if (gateway) {
      const drop = h('button', { type: 'button', class: 'small danger' }, forRoom(t('rooms.revoke'), room));
      drop.addEventListener('click', () => revoke(room, gateway, drop));
      box.append(drop);
    }
    return box;
  }

  async function refresh() {
    const [rooms, gateways] = await Promise.all([api('/api/v1/admin/rooms'), api('/api/v1/admin/gateways')]);
    state.tz = gateways.timezone;
    const byRoom = new Map(gateways.items.map((g) => [g.room_id, g]));
    const view = table({
      caption: t('rooms.caption'),
      empty: t('rooms.empty'),
      rows: rooms.items,
      columns: [
        { label: t('rooms.name'), header: true, cell: (r) => r.name, class: 'wrap' },
        { label: t('rooms.room_code'), cell: (r) => String(r.room_code) },
        { label: t('rooms.gateway'), cell: (r) => (byRoom.has(r.id) ? stateChip(byRoom.get(r.id)) : t('rooms.no_gateway')) },
        { label: t('common.actions'), cell: (r) => actions(r, byRoom.get(r.id)) },
      ],
    });
    view.querySelector('table')?.classList.add('rooms-table');
    listBox.replaceChildren(view);
  }

  await refresh(); // the page appears with its data
  main.append(
    h('h1', { tabIndex: -1, text: t('rooms.title') }),
    h('p', { class: 'muted' }, t('rooms.intro'), ' ', h('a', { href: '#/admin/fleet', text: t('rooms.to_fleet') })),
    codeBox,
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'rooms-list-h' } }, h('h2', { id: 'rooms-list-h', text: t('rooms.list') }), listError, listBox),
    roomForm(() => refresh()),
  );
}
