/* global document, setTimeout */
// Building the console's DOM: elements with their text and handlers (never HTML from data),
// labelled form fields, record tables and the announcements screen readers hear.
import { ApiError } from '/dashboard/dashboard-api.js';
import { t } from './i18n.js';

let nextId = 0;
/** An id unique in the page, for label/for and aria-describedby. */
export const uid = (prefix = 'f') => `${prefix}-${++nextId}`;

/**
 * h('button', {class: 'secondary', type: 'button', on: {click}}, 'text', child…): props are
 * `class`, `text`, `on` (events), `attrs` (attributes such as aria-* and data-*) and any other
 * element property (id, type, value, hidden, disabled, …). Children are nodes or strings.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'attrs') for (const [a, av] of Object.entries(v)) { if (av !== undefined && av !== null && av !== false) el.setAttribute(a, av === true ? '' : String(av)); }
    else el[k] = v;
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/**
 * A labelled control: `field(t('x'), h('input', {name: 'x'}), {hint})` → the label and the control
 * (and the hint, tied to it by aria-describedby) in one wrapper.
 */
export function field(label, control, { hint } = {}) {
  control.id ||= uid();
  const wrap = h('div', { class: 'field' }, h('label', { htmlFor: control.id, text: label }), control);
  if (hint) {
    const hid = uid('hint');
    wrap.append(h('p', { id: hid, class: 'muted', text: hint }));
    control.setAttribute('aria-describedby', hid);
  }
  return wrap;
}

/** A <select> of [value, text] pairs with `value` chosen. */
export function select(options, { value, ...props } = {}) {
  const el = h('select', props, options.map(([v, text]) => h('option', { value: v, text })));
  if (value !== undefined) el.value = value;
  return el;
}

/**
 * A table of records: columns are {label, cell: (row) => string | Node, header?: true (the row's
 * header cell), class?}; `rowClass(row)` may name a class for a row. `caption` is read by screen
 * readers (visible unless `hideCaption`). A table with no control of its own makes its scrolling
 * box a named, focusable region, so a keyboard can scroll it at a phone's width.
 */
export function table({ caption, columns, rows, empty = t('common.none'), hideCaption = false, rowClass }) {
  if (!rows.length) return h('p', { class: 'muted', text: empty });
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c.label })));
  const body = rows.map((row) => h('tr', { class: rowClass?.(row) }, columns.map((c) => {
    const v = c.cell(row);
    return h(c.header ? 'th' : 'td', { scope: c.header ? 'row' : undefined, class: c.class }, typeof v === 'string' || typeof v === 'number' ? String(v) : v);
  })));
  const box = h('div', { class: 'scroll' }, h('table', {},
    h('caption', { class: hideCaption ? 'visually-hidden' : undefined, text: caption }),
    h('thead', {}, head), h('tbody', {}, body)));
  if (!box.querySelector('a[href], button, input, select, textarea, [tabindex]')) {
    box.tabIndex = 0;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', caption);
  }
  return box;
}

/** Says `text` to screen readers (the page's one polite live region). */
export function announce(text) {
  const status = document.getElementById('status');
  status.textContent = '';
  // A new text node each time, so the same message twice is announced twice.
  setTimeout(() => (status.textContent = text), 30);
}

/** The text for a failure: the API's own message, or that the server could not be reached. */
export function errorText(e) {
  return e instanceof ApiError ? t('error.failed', { message: e.message }) : t('error.unreachable');
}

/**
 * Runs `fn` for a form or button: the control is disabled meanwhile and `out` (an element with
 * role=status or alert) gets the error text if it fails. Returns whether it succeeded.
 */
export async function attempt(control, out, fn) {
  control.disabled = true;
  out.textContent = '';
  try {
    await fn();
    return true;
  } catch (e) {
    out.textContent = errorText(e);
    return false;
  } finally {
    control.disabled = false;
  }
}
