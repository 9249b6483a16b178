/* global document */
// The console's forms beyond one field: the error line under each control that the API's
// validation details fill, and the confirmation dialog before an action that removes, revokes or
// ends something.
import { ApiError } from '/dashboard/dashboard-api.js';
import { h, attempt, errorText, field, uid } from './dom.js';
import { t } from './i18n.js';

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
      parts.push(t('form.field_error', { field: target.label, message: d.message }));
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
 * Asks in a modal dialog before an action. Resolves `{confirmed: false}` on Escape or Cancel (or
 * when `signal` aborts: the page was left). With `action`, the confirm button runs it inside the
 * dialog: a failure is shown there (role=alert) and the person may try again or cancel; success
 * closes the dialog and resolves `{confirmed: true, result}`. The focus goes back to the opener.
 */
export function confirmAction({ title, text, confirm, action, signal }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid('dlg');
    const textId = uid('dlg-text');
    const error = h('p', { class: 'error', attrs: { role: 'alert' } });
    const yes = h('button', { type: 'button', class: 'danger', text: confirm });
    const no = h('button', { type: 'button', class: 'secondary', text: t('common.cancel') });
    const dialog = h('dialog', { class: 'dialog', attrs: { 'aria-labelledby': titleId, 'aria-describedby': textId } },
      h('h2', { id: titleId, text: title }), h('p', { id: textId, text }), h('div', { class: 'actions' }, no, yes), error);
    let outcome = { confirmed: false };
    const done = (result) => {
      outcome = result;
      if (dialog.open) dialog.close();
    };
    no.addEventListener('click', () => done({ confirmed: false }));
    yes.addEventListener('click', async () => {
      if (!action) return done({ confirmed: true });
      yes.disabled = no.disabled = true;
      error.textContent = '';
      try {
        done({ confirmed: true, result: await action() });
      } catch (e) {
        error.textContent = errorText(e);
      } finally {
        yes.disabled = no.disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      signal?.removeEventListener('abort', onAbort);
      if (opener?.isConnected) opener.focus();
      resolve(outcome);
    });
    const onAbort = () => done({ confirmed: false });
    signal?.addEventListener('abort', onAbort, { once: true });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
