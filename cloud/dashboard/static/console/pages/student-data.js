// Student: my data. What is kept about me, and the download of all of it (GET /student/export) as
// a JSON file saved by the browser.
import { api, saveFile } from '/dashboard/dashboard-api.js';
import { h, attempt } from '../dom.js';
import { t } from '../i18n.js';

const SECTIONS = ['account', 'enrolments', 'attendance', 'devices', 'verifications', 'submissions', 'witnessed', 'links', 'audit'];

export async function render(main, ctx) {
  const button = h('button', { type: 'button', text: t('student.data.download.button') });
  const error = h('p', { class: 'error', attrs: { role: 'alert' } });
  const done = h('p', { class: 'ok', attrs: { role: 'status' } });
  button.addEventListener('click', async () => {
    done.textContent = '';
    const name = `personal-data-${ctx.me.id}.json`;
    const ok = await attempt(button, error, async () => {
      const data = await api('/api/v1/student/export');
      saveFile(name, `${JSON.stringify(data, null, 2)}\n`, 'application/json');
    });
    if (ok) {
      done.textContent = t('student.data.downloaded', { file: name });
    }
  });
  main.append(
    h('h1', { text: t('student.data.title') }),
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'data-what-h' } },
      h('h2', { id: 'data-what-h', text: t('student.data.what.title') }),
      h('p', { text: t('student.data.what.intro') }),
      h('ul', {}, SECTIONS.map((s) => h('li', { text: t(`student.data.what.${s}`) }))),
      h('p', { class: 'muted', text: t('student.data.what.never') })),
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'data-download-h' } },
      h('h2', { id: 'data-download-h', text: t('student.data.download.title') }),
      h('p', { text: t('student.data.download.intro') }),
      button, error, done,
      h('p', { class: 'muted', text: t('student.data.erasure') })),
  );
}
