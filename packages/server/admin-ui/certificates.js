import { useState } from 'preact/hooks';
import { query } from './api.js';
import { day, shortSerial } from './format.js';
import { useApi } from './hooks.js';
import { html } from './html.js';
import { Pager, Problem, Status } from './widgets.js';

function navigate(params) {
  location.hash = `#/certificates${query(params)}`;
}

export function CertificatesPage({ params }) {
  const current = {
    q: params.get('q') ?? '',
    by: params.get('by') ?? 'any',
    status: params.get('status') ?? '',
    expiringDays: params.get('expiringDays') ?? '',
    offset: Number(params.get('offset') ?? 0),
  };
  const [q, setQ] = useState(current.q);
  const [by, setBy] = useState(current.by);
  const [status, setStatus] = useState(current.status);
  const list = useApi(`/certificates${query({ ...current, offset: current.offset || '' })}`);
  const submit = (e) => {
    e.preventDefault();
    navigate({ q, by, status, expiringDays: current.expiringDays });
  };
  return html`<section>
    <h1>Certificates</h1>
    <form class="filters" role="search" onSubmit=${submit}>
      <input
        type="search"
        name="q"
        placeholder="Subject, SAN, serial or device id"
        aria-label="Search certificates"
        value=${q}
        onInput=${(e) => setQ(e.target.value)}
      />
      <select name="by" aria-label="Search in" value=${by} onChange=${(e) => setBy(e.target.value)}>
        <option value="any">any field</option>
        <option value="subject">subject</option>
        <option value="san">SAN</option>
        <option value="serial">serial</option>
        <option value="device">device id</option>
      </select>
      <select name="status" aria-label="Status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">valid and revoked</option>
        <option value="valid">valid</option>
        <option value="revoked">revoked</option>
      </select>
      <button type="submit">Search</button>
      ${
        current.expiringDays &&
        html`<span class="chip">expires within ${current.expiringDays} days (or has expired)</span>`
      }
    </form>
    ${list.error && html`<${Problem} error=${list.error} />`}
    ${
      list.data &&
      html`<table class="list">
          <thead>
            <tr>
              <th>Subject</th>
              <th>SANs</th>
              <th>Serial</th>
              <th>Profile</th>
              <th>Expires</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            ${list.data.items.map(
              (c) =>
                html`<tr key=${c.serial} data-serial=${c.serial}>
                  <td><a href=${`#/certificates/${c.serial}`}>${c.subject || '(empty subject)'}</a></td>
                  <td class="sans">${c.sans.join(', ')}</td>
                  <td><code title=${c.serial}>${shortSerial(c.serial)}</code></td>
                  <td>${c.profile}</td>
                  <td>${day(c.notAfter)}</td>
                  <td><${Status} status=${c.status} reason=${c.revocationReason} /></td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${list.data.items.length === 0 && html`<p class="muted">No certificate matches.</p>`}
        <${Pager}
          offset=${list.data.offset}
          limit=${list.data.limit}
          more=${list.data.more}
          go=${(offset) => navigate({ ...current, offset: offset || '' })}
        />`
    }
  </section>`;
}
