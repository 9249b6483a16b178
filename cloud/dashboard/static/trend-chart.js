/* global document */
// The trend chart as plain SVG (no chart library to vendor): one bar per bucket with a
// session, its height the attendance rate; buckets without a session get a grey tick so an
// empty day reads as "no class", not as 0 %. The course minimum is a dashed line.

const NS = 'http://www.w3.org/2000/svg';
const H = 240;
const PAD = { left: 40, right: 8, top: 10, bottom: 36 };

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const label = (b) => (b.start === b.end ? b.start : `${b.start} – ${b.end}`);

/** Draws `buckets` (from attendance_trends) into `svg`; returns a one-line summary for captions. */
export function renderTrendChart(svg, buckets, minPercent) {
  svg.replaceChildren();
  // Drawn at the width it is shown at, so labels keep their size on a phone instead of shrinking.
  const W = Math.max(300, Math.round(svg.getBoundingClientRect().width) || 720);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (pct) => PAD.top + plotH - (pct / 100) * plotH;
  for (const pct of [0, 25, 50, 75, 100]) {
    svg.append(el('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(pct), y2: y(pct) }));
    svg.append(el('text', { x: PAD.left - 6, y: y(pct) + 4, 'text-anchor': 'end' }, `${pct}%`));
  }
  const slot = plotW / Math.max(buckets.length, 1);
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const labelEvery = Math.ceil(buckets.length / Math.max(2, Math.floor(plotW / 70)));
  buckets.forEach((b, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    if (b.has_session && b.attendance_rate !== null) {
      const bar = el('rect', { class: 'bar', x, y: y(b.attendance_rate), width: barW, height: Math.max(1, y(0) - y(b.attendance_rate)), 'data-start': b.start, 'data-rate': b.attendance_rate });
      bar.append(el('title', {}, `${label(b)}: ${b.attendance_rate} % (${b.present} present, ${b.late} late, ${b.absent} absent, ${b.excused} excused)`));
      svg.append(bar);
    } else {
      const tick = el('rect', { class: b.has_session ? 'bar' : 'no-session', x, y: y(0) - 3, width: barW, height: 3, 'data-start': b.start });
      tick.append(el('title', {}, `${label(b)}: ${b.has_session ? 'only excused students' : 'no session'}`));
      svg.append(tick);
    }
    if (i % labelEvery === 0) svg.append(el('text', { x: x + barW / 2, y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, b.start.slice(5)));
  });
  if (typeof minPercent === 'number') svg.append(el('line', { class: 'min-line', x1: PAD.left, x2: W - PAD.right, y1: y(minPercent), y2: y(minPercent) }));

  const held = buckets.filter((b) => b.has_session);
  const rates = held.map((b) => b.attendance_rate).filter((r) => r !== null);
  const avg = rates.length ? Math.round((rates.reduce((a, r) => a + r, 0) / rates.length) * 10) / 10 : null;
  return held.length
    ? `${held.length} of ${buckets.length} periods had a session; average attendance ${avg} %${typeof minPercent === 'number' ? `, minimum ${minPercent} % dashed` : ''}.`
    : `No session between ${buckets[0]?.start ?? '–'} and ${buckets.at(-1)?.end ?? '–'}.`;
}
