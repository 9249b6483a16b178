/* global fetch, document, window, location, history, URLSearchParams */
// The page the verification mail links to (/verify-email#token=…). Opening it confirms nothing:
// a mail scanner that follows links must not prove an address, so the person presses the button.
// The token comes from the fragment, which no browser sends to a server or in a Referer, and is
// taken out of the address bar at once so it stays out of history and shared screenshots.

const $ = (id) => document.getElementById(id);
const form = $('verify-form');
const code = $('code');
const status = $('verify-status');
const button = form.querySelector('button');

/** The token from `token=…` in a fragment or a pasted link, or the pasted code itself. */
function tokenOf(text) {
  const value = text.trim();
  const hash = value.indexOf('#');
  const fromLink = new URLSearchParams(hash >= 0 ? value.slice(hash + 1) : value).get('token');
  return fromLink ?? value;
}

/** Takes a link's token into the field (on opening, or a link opened again in this tab). */
function takeTokenFromAddress() {
  if (!location.hash) return;
  code.value = tokenOf(location.hash);
  history.replaceState(null, '', location.pathname + location.search);
  form.hidden = false;
  code.removeAttribute('aria-invalid');
  status.replaceChildren();
}
takeTokenFromAddress();
window.addEventListener('hashchange', takeTokenFromAddress);

function show(kind, ...lines) {
  status.replaceChildren(...lines.map((text) => {
    const p = document.createElement('p');
    p.textContent = text;
    if (kind === 'error') p.className = 'error';
    return p;
  }));
}

/** What a failed request means to the person holding the mail. */
function failureText(res, body) {
  const error = body && body.error ? body.error : {};
  if (error.code === 'invalid_verification') {
    return ['This link or code is unknown, already used or expired.', 'If your address is not confirmed yet, register again with the same e-mail address to get a new link. If you already confirmed it, just log in.'];
  }
  if (error.code === 'validation_error') return ['That is not a whole code: copy the full code or link from the mail.'];
  if (res.status === 429) return ['Too many attempts; wait a minute and try again.'];
  return [`Could not confirm the address: ${error.message || res.statusText || `error ${res.status}`}.`];
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = tokenOf(code.value);
  if (!token) {
    code.setAttribute('aria-invalid', 'true');
    show('error', 'Paste the code from the mail first.');
    code.focus();
    return;
  }
  code.removeAttribute('aria-invalid');
  button.disabled = true;
  status.setAttribute('aria-busy', 'true');
  show('info', 'Confirming…');
  try {
    const res = await fetch('/api/v1/auth/verify-email', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token }),
    });
    const body = await res.json().catch(() => null);
    if (res.ok) {
      form.hidden = true;
      code.value = '';
      show('ok', 'Your address is confirmed.', 'You can now log in with your e-mail address and password in the attendance app.');
    } else {
      code.setAttribute('aria-invalid', 'true');
      show('error', ...failureText(res, body));
    }
  } catch {
    show('error', 'The server could not be reached; check your connection and try again.');
  } finally {
    button.disabled = false;
    status.removeAttribute('aria-busy');
  }
});
