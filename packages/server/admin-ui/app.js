// The scepkit admin console: a hash-routed single page (Preact + htm, no bundler).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, signIn, signOut, whenSignedOut } from './api.js';
import { AuditPage } from './audit.js';
import { CertificatePage } from './certificate.js';
import { CertificatesPage } from './certificates.js';
import { DashboardPage } from './dashboard.js';
import { html } from './html.js';
import { RequestsPage } from './requests.js';

/** `#/certificates?q=x` -> { path: ['certificates'], params: URLSearchParams }. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p, q] = raw.split('?');
  return {
    path: (p ?? '').split('/').filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(q ?? ''),
  };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const f = () => setRoute(parseHash());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return route;
}

const NAV = [
  ['', 'Dashboard'],
  ['certificates', 'Certificates'],
  ['requests', 'Requests'],
  ['audit', 'Audit'],
];

function Login({ onSignedIn }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(password));
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  return html`<main class="login">
    <form class="card" onSubmit=${submit} aria-label="Sign in">
      <h1>scepkit</h1>
      <input type="text" name="username" autocomplete="username" value="admin" hidden />
      <label for="password">Admin password</label>
      <input
        id="password"
        name="password"
        type="password"
        autocomplete="current-password"
        autofocus
        value=${password}
        onInput=${(e) => setPassword(e.target.value)}
      />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy || !password}>Sign in</button>
    </form>
  </main>`;
}

function Page({ route }) {
  const [top, arg] = route.path;
  if (top === 'certificates' && arg) return html`<${CertificatePage} serial=${arg} />`;
  if (top === 'certificates') return html`<${CertificatesPage} params=${route.params} />`;
  if (top === 'requests') return html`<${RequestsPage} params=${route.params} />`;
  if (top === 'audit') return html`<${AuditPage} params=${route.params} />`;
  return html`<${DashboardPage} />`;
}

function App() {
  const route = useRoute();
  const [session, setSession] = useState(undefined);
  useEffect(() => {
    whenSignedOut(() => setSession(null));
    currentSession().then(setSession, () => setSession(null));
  }, []);
  if (session === undefined) return html`<p class="loading">Loading…</p>`;
  if (session === null) return html`<${Login} onSignedIn=${setSession} />`;
  const top = route.path[0] ?? '';
  const logout = async () => {
    await signOut().catch(() => {});
    setSession(null);
  };
  return html`<div class="shell">
    <header>
      <span class="brand">scepkit</span>
      <nav>
        ${NAV.map(
          ([path, label]) =>
            html`<a
              href=${`#/${path}`}
              class=${top === path ? 'active' : ''}
              aria-current=${top === path ? 'page' : undefined}
              >${label}</a
            >`,
        )}
      </nav>
      <span class="who">${session.actor}</span>
      <button class="link" onClick=${logout}>Sign out</button>
    </header>
    <main><${Page} route=${route} /></main>
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
