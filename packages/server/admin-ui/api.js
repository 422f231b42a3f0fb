// The console's JSON API client: same-origin fetch, the session's CSRF token on every state change.
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error ?? 'error';
  }
}

/** Called when the API answers 401 (the session expired): the app shows the sign-in form. */
let onUnauthenticated = () => {};
export function whenSignedOut(f) {
  onUnauthenticated = f;
}

async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`/admin/api${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401 && path !== '/login') onUnauthenticated();
    throw new ApiError(res.status, data);
  }
  return data;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body = {}) => call('POST', path, body),
};

export async function currentSession() {
  try {
    const s = await call('GET', '/session');
    csrfToken = s.csrfToken;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signIn(password) {
  const s = await call('POST', '/login', { password });
  csrfToken = s.csrfToken;
  return s;
}

export async function signOut() {
  await call('POST', '/logout', {});
  csrfToken = null;
}

/** `a=1&b=x` from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
