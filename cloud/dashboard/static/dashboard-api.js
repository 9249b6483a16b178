/* global fetch, sessionStorage, URL, URLSearchParams, document, Blob, setTimeout */
// The dashboard's only door to the server: the JSON API with the teacher's bearer token.
// The token lives in sessionStorage (gone when the tab closes), never in a cookie, so the API
// needs no CSRF defence and other tabs or sites cannot use it.

const TOKEN_KEY = 'attendance.token';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  header() {
    return { Authorization: `Bearer ${this.token}` };
  },
};

/** Called on a 401 so the page can go back to the login form. */
let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

async function failure(res) {
  let code = 'http_' + res.status;
  let message = res.statusText || 'request failed';
  let details;
  try {
    const body = await res.json();
    if (body && body.error) ({ code, message, details } = body.error);
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401) onUnauthorized();
  return new ApiError(res.status, code, message, details);
}

/** `type` sends `body` as it is (a CSV text, a zip file) with that Content-Type instead of as JSON. */
export async function api(path, { method = 'GET', body, accept = 'application/json', type } = {}) {
  const headers = { ...auth.header(), Accept: accept };
  if (body !== undefined) headers['Content-Type'] = type ?? 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined || type ? body : JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  return accept === 'application/json' ? res.json() : res;
}

export async function login(email, password) {
  const res = await fetch('/api/v1/auth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw await failure(res);
  auth.token = (await res.json()).access_token;
}

/** Whether the cloud offers sign-in through the institution: `{enabled, name, login_url}`. */
export async function institutionSignIn() {
  const res = await fetch('/api/v1/auth/oidc', { headers: { Accept: 'application/json' } });
  if (!res.ok) throw await failure(res);
  return res.json();
}

/** Exchanges the one-time code of a finished sign-in through the institution for the bearer token. */
export async function exchangeSignInCode(code) {
  const res = await fetch('/api/v1/auth/oidc/exchange', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ code }),
  });
  if (!res.ok) throw await failure(res);
  auth.token = (await res.json()).access_token;
}

/** Hands `text` to the browser as a file download called `name`. */
export function saveFile(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Fetches a CSV with the bearer header and hands it to the browser as a download. */
export async function downloadCsv(path) {
  const res = await api(path, { accept: 'text/csv' });
  const disposition = res.headers.get('Content-Disposition') || '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'attendance.csv';
  saveFile(name, await res.text(), 'text/csv');
  return name;
}

export const query = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();
