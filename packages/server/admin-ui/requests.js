import { useState } from 'preact/hooks';
import { api, query } from './api.js';
import { utc } from './format.js';
import { useApi } from './hooks.js';
import { html } from './html.js';
import { Pager, Problem, State } from './widgets.js';

const FILTERS = [
  ['all', 'All'],
  ['failures', 'Failures'],
  ['pending', 'Pending'],
  ['issued', 'Issued'],
  ['failed', 'Failed'],
  ['rejected', 'Rejected'],
  ['approved', 'Approved'],
];

function Decide({ t, done }) {
  const [error, setError] = useState(null);
  const act = async (verb) => {
    let body = {};
    if (verb === 'reject') {
      const reason = prompt('Reason for rejecting (sent to the audit log)', 'rejected by an administrator');
      if (reason === null) return;
      body = reason.trim() ? { reason: reason.trim() } : {};
    }
    try {
      await api.post(
        `/requests/${encodeURIComponent(t.profile)}/${encodeURIComponent(t.transactionId)}/${verb}`,
        body,
      );
      done();
    } catch (err) {
      setError(err);
    }
  };
  return html`<span class="actions">
    <button onClick=${() => act('approve')}>Approve</button>
    <button class="danger" onClick=${() => act('reject')}>Reject</button>
    ${error && html`<${Problem} error=${error} />`}
  </span>`;
}

export function RequestsPage({ params }) {
  const state = params.get('state') ?? 'all';
  const offset = Number(params.get('offset') ?? 0);
  const list = useApi(`/requests${query({ state, offset: offset || '' })}`);
  const go = (p) => (location.hash = `#/requests${query(p)}`);
  return html`<section>
    <h1>Requests</h1>
    <div class="filters" role="group" aria-label="Filter requests">
      ${FILTERS.map(
        ([v, label]) =>
          html`<button class=${v === state ? 'chip active' : 'chip'} onClick=${() => go({ state: v })}>
            ${label}
          </button>`,
      )}
    </div>
    ${list.error && html`<${Problem} error=${list.error} />`}
    ${
      list.data &&
      html`<table class="list">
          <thead>
            <tr>
              <th>Received</th>
              <th>Subject</th>
              <th>Profile</th>
              <th>State</th>
              <th>failInfo</th>
              <th>Reason</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${list.data.items.map(
              (t) =>
                html`<tr data-transaction=${t.transactionId}>
                  <td class="date">${utc(t.createdAt)}</td>
                  <td>
                    ${t.serial ? html`<a href=${`#/certificates/${t.serial}`}>${t.subject ?? t.serial}</a>` : (t.subject ?? '–')}
                    <br /><code class="muted" title="transactionID">${t.transactionId.slice(0, 24)}</code>
                  </td>
                  <td>${t.profile}</td>
                  <td><${State} state=${t.state} awaiting=${t.awaitingApproval} /></td>
                  <td>${t.failInfo ? html`<code>${t.failInfo}</code>` : ''}</td>
                  <td>${t.reason ?? ''}</td>
                  <td>${t.awaitingApproval && html`<${Decide} t=${t} done=${list.reload} />`}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${list.data.items.length === 0 && html`<p class="muted">No request.</p>`}
        <${Pager}
          offset=${list.data.offset}
          limit=${list.data.limit}
          more=${list.data.more}
          go=${(o) => go({ state, offset: o || '' })}
        />`
    }
  </section>`;
}
