import { useEffect, useRef, useState } from 'preact/hooks';
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

function RejectDialog({ t, onClose, onDone }) {
  const ref = useRef(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const submit = async (e) => {
    e.preventDefault();
    try {
      await api.post(path(t, 'reject'), reason.trim() ? { reason: reason.trim() } : {});
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<dialog ref=${ref} onClose=${onClose} aria-labelledby="reject-title">
    <form onSubmit=${submit}>
      <h2 id="reject-title">Reject this request?</h2>
      <p>${t.subject ?? t.transactionId}</p>
      <p class="muted">The device gets FAILURE (badRequest) at its next poll.</p>
      <label for="reject-reason">Reason (audit log)</label>
      <input
        id="reject-reason"
        maxlength="200"
        placeholder="rejected by an administrator"
        value=${reason}
        onInput=${(e) => setReason(e.target.value)}
      />
      ${error && html`<${Problem} error=${error} />`}
      <div class="actions">
        <button type="button" onClick=${() => ref.current?.close()}>Cancel</button>
        <button type="submit" class="danger">Reject</button>
      </div>
    </form>
  </dialog>`;
}

function path(t, verb) {
  return `/requests/${encodeURIComponent(t.profile)}/${encodeURIComponent(t.transactionId)}/${verb}`;
}

function Decide({ t, done }) {
  const [error, setError] = useState(null);
  const [rejecting, setRejecting] = useState(false);
  const approve = async () => {
    try {
      await api.post(path(t, 'approve'), {});
      done();
    } catch (err) {
      setError(err);
    }
  };
  return html`<span class="actions">
    <button onClick=${approve}>Approve</button>
    <button class="danger" onClick=${() => setRejecting(true)}>Reject…</button>
    ${
      rejecting &&
      html`<${RejectDialog}
        t=${t}
        onClose=${() => setRejecting(false)}
        onDone=${() => {
          setRejecting(false);
          done();
        }}
      />`
    }
    ${error && html`<${Problem} error=${error} />`}
  </span>`;
}

export function RequestsPage({ params }) {
  const state = params.get('state') ?? 'all';
  const offset = Number(params.get('offset') ?? 0);
  // Refreshed every 5 s: new requests waiting for approval show up by themselves.
  const list = useApi(`/requests${query({ state, offset: offset || '' })}`, 5000);
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
                html`<tr key=${`${t.profile}/${t.transactionId}`} data-transaction=${t.transactionId}>
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
