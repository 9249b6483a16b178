/* global document */
// The courses pages' forms: an error line under each control that the API's validation details
// fill (`{path, message}` per field), and a confirmation dialog for removals.
import { ApiError } from '/dashboard/dashboard-api.js';
import { h, attempt, errorText, field, table, uid } from '../dom.js';
import { t } from '../i18n.js';

/**
 * Adds an error line under each control of `fields` ({apiField: [wrap, control, label]}) and
 * returns `{clear(), show(e, summary), run(control, summary, fn)}`: `show` puts each validation
 * detail next to its control (the last segment of its path names the field) and the whole failure
 * into `summary` (role=alert); `run` is attempt() that does so when `fn` fails.
 */
export function fieldErrors(fields) {
  const lines = {};
  for (const [name, [wrap, control, label]] of Object.entries(fields)) {
    const line = h('p', { class: 'error field-error', id: uid('err') });
    wrap.append(line);
    control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), line.id].filter(Boolean).join(' '));
    lines[name] = { line, control, label };
  }
  const clear = () => {
    for (const { line, control } of Object.values(lines)) {
      line.textContent = '';
      control.removeAttribute('aria-invalid');
    }
  };
  const show = (e, summary) => {
    clear();
    const parts = [errorText(e)];
    const details = e instanceof ApiError && Array.isArray(e.details) ? e.details : [];
    for (const d of details) {
      const target = lines[String(d.path ?? '').split('.').pop()];
      if (!target) continue;
      target.line.textContent = d.message;
      target.control.setAttribute('aria-invalid', 'true');
      parts.push(t('courses.field_error', { field: target.label, message: d.message }));
    }
    summary.textContent = [parts[0], parts.slice(1).join(' ')].filter(Boolean).join(' — ');
  };
  const run = async (control, summary, fn) => {
    clear();
    let failure;
    const ok = await attempt(control, summary, async () => {
      try {
        await fn();
      } catch (e) {
        failure = e;
        throw e;
      }
    });
    if (failure) show(failure, summary);
    return ok;
  };
  return { clear, show, run };
}

/** A control with its label, hint and error line, in the shape fieldErrors() takes. */
export function labelled(label, control, hint) {
  return [field(label, control, { hint }), control, label];
}

/**
 * Asks in a modal dialog before something is removed; resolves true only when the person
 * presses the confirming button (Escape or Cancel: false). Focus returns to the opener.
 */
export function confirmRemoval({ title, text, confirm }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid('dlg');
    const dialog = h('dialog', { class: 'courses-dialog', attrs: { 'aria-labelledby': titleId } });
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      opener?.focus?.();
      resolve(answer);
    };
    dialog.append(
      h('h2', { id: titleId, text: title }),
      h('p', { text }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', text: t('common.cancel'), on: { click: () => done(false) } }),
        h('button', { type: 'button', class: 'danger', text: confirm, on: { click: () => done(true) } })),
    );
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A table() that holds no control of its own: its scrolling box becomes a named, focusable
 * region, so a keyboard can scroll it at a phone's width.
 */
export function readOnlyTable(options) {
  const el = table(options);
  if (el.classList.contains('scroll')) {
    el.tabIndex = 0;
    el.setAttribute('role', 'region');
    el.setAttribute('aria-label', options.caption);
  }
  return el;
}
