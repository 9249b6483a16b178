// Administration: a course's attendance policy (PUT /api/v1/admin/courses/:id/policy), every
// field with its label and hint; the API's validation errors appear next to their fields.
import { api } from '/dashboard/dashboard-api.js';
import { h, select } from '../dom.js';
import { t } from '../i18n.js';
import { fieldErrors, labelled } from '../forms.js';

const NUMBERS = [
  ['min_presence', { step: '0.05', min: '0', max: '1' }],
  ['late_after_min', { step: '1', min: '0', max: '240' }],
  ['min_attendance_percent', { step: '1', min: '0', max: '100' }],
  ['grace_s', { step: '1', min: '0', max: '300' }],
];
const SWITCHES = ['require_biometric', 'require_device_bound'];
// require_proximity is three-way: null follows the room (on when it has an active gateway).
const PROXIMITY = [['room', null], ['on', true], ['off', false]];

export function policySection(course) {
  const controls = {};
  const fields = {};
  for (const [name, attrs] of NUMBERS) {
    controls[name] = h('input', { name, type: 'number', inputMode: 'decimal', attrs, value: String(course.policy[name]) });
    fields[name] = labelled(t(`courses.policy.${name}`), controls[name], t(`courses.policy.${name}_hint`));
  }
  for (const name of SWITCHES) {
    controls[name] = h('input', { name, type: 'checkbox', checked: course.policy[name] });
    fields[name] = labelled(t(`courses.policy.${name}`), controls[name], t(`courses.policy.${name}_hint`));
  }
  const proximity = select(PROXIMITY.map(([k]) => [k, t(`courses.policy.proximity.${k}`)]), { name: 'require_proximity', value: PROXIMITY.find(([, v]) => v === course.policy.require_proximity)[0] });
  controls.require_proximity = proximity;
  fields.require_proximity = labelled(t('courses.policy.require_proximity'), proximity, t('courses.policy.require_proximity_hint'));

  const errors = fieldErrors(fields);
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const saved = h('p', { class: 'ok', attrs: { role: 'status' } });
  const submit = h('button', { type: 'submit', text: t('courses.policy.save') });
  const form = h('form', { noValidate: true, class: 'courses-form courses-policy' }, Object.values(fields).map(([wrap]) => wrap), submit, alert, saved);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    saved.textContent = '';
    const body = {};
    // An emptied number is sent as null, so the API says it is missing rather than keeping the old value.
    for (const [name] of NUMBERS) body[name] = controls[name].value === '' ? null : Number(controls[name].value);
    for (const name of SWITCHES) body[name] = controls[name].checked;
    body.require_proximity = PROXIMITY.find(([k]) => k === proximity.value)[1];
    let updated;
    const ok = await errors.run(submit, alert, async () => {
      updated = await api(`/api/v1/admin/courses/${encodeURIComponent(course.id)}/policy`, { method: 'PUT', body });
    });
    if (!ok) return;
    for (const [name] of NUMBERS) controls[name].value = String(updated.policy[name]);
    saved.textContent = t('courses.policy.saved');
  });
  return h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'course-policy-h' } },
    h('h2', { id: 'course-policy-h', text: t('courses.policy.title') }),
    h('p', { class: 'muted', text: t('courses.policy.intro') }),
    form);
}
