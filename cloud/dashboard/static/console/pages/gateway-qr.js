/* global document */
// The provisioning answer's QR code as an <svg>: the server sends the symbol's dark modules as
// path data (cloud/http/provisioning-qr.ts); it is drawn here with no markup from the server.
const SVG = 'http://www.w3.org/2000/svg';

/** `qr` is {text, size, path}; `label` says what the symbol encodes (its text alternative). */
export function qrSvg(qr, label) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'qr');
  svg.setAttribute('viewBox', `0 0 ${qr.size} ${qr.size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const title = document.createElementNS(SVG, 'title');
  title.textContent = label;
  const background = document.createElementNS(SVG, 'rect');
  for (const [k, v] of [['width', qr.size], ['height', qr.size], ['fill', '#fff']]) background.setAttribute(k, String(v));
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', qr.path);
  modules.setAttribute('fill', '#000');
  svg.append(title, background, modules);
  return svg;
}
