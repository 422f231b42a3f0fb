import { useState } from 'preact/hooks';
import { query } from './api.js';
import { utc } from './format.js';
import { useApi } from './hooks.js';
import { html } from './html.js';
import { Details, Problem } from './widgets.js';

const ACTIONS = [
  'issue',
  'refuse',
  'pending',
  'replay',
  'error',
  'revoke',
  'approve',
  'reject',
  'login',
  'login-failed',
  'logout',
];
const ACTORS = ['scep', 'intune', 'system', 'admin:console', 'admin:cli'];

export function AuditPage({ params }) {
  const current = {
    actor: params.get('actor') ?? '',
    action: params.get('action') ?? '',
    before: params.get('before') ?? '',
  };
  const [actor, setActor] = useState(current.actor);
  const [action, setAction] = useState(current.action);
  const list = useApi(`/audit${query(current)}`);
  const go = (p) => (location.hash = `#/audit${query(p)}`);
  return html`<section>
    <h1>Audit log</h1>
    <form
      class="filters"
      onSubmit=${(e) => {
        e.preventDefault();
        go({ actor, action });
      }}
    >
      <input
        name="actor"
        list="actors"
        placeholder="actor"
        aria-label="Actor"
        value=${actor}
        onInput=${(e) => setActor(e.target.value)}
      />
      <datalist id="actors">${ACTORS.map((a) => html`<option value=${a} />`)}</datalist>
      <input
        name="action"
        list="actions"
        placeholder="action"
        aria-label="Action"
        value=${action}
        onInput=${(e) => setAction(e.target.value)}
      />
      <datalist id="actions">${ACTIONS.map((a) => html`<option value=${a} />`)}</datalist>
      <button type="submit">Filter</button>
    </form>
    ${list.error && html`<${Problem} error=${list.error} />`}
    ${
      list.data &&
      html`<table class="list">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Subject / serial</th>
              <th>Transaction</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            ${list.data.items.map(
              (e) =>
                html`<tr key=${e.id} data-action=${e.action}>
                  <td class="date">${utc(e.time)}</td>
                  <td>${e.actor}</td>
                  <td>${e.action}</td>
                  <td>
                    ${e.subject && html`<div>${e.subject}</div>`}
                    ${e.serial && html`<a href=${`#/certificates/${e.serial}`}><code>${e.serial.slice(0, 12)}</code></a>`}
                  </td>
                  <td><code class="muted">${(e.transactionId ?? '').slice(0, 16)}</code></td>
                  <td><${Details} details=${e.details} /></td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${list.data.items.length === 0 && html`<p class="muted">No event.</p>`}
        <div class="pager">
          ${current.before && html`<button onClick=${() => go({ actor: current.actor, action: current.action })}>Newest</button>`}
          <button disabled=${!list.data.next} onClick=${() => go({ ...current, before: list.data.next })}>
            Older
          </button>
        </div>`
    }
  </section>`;
}
