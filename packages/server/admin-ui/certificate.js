import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { utc } from './format.js';
import { useApi } from './hooks.js';
import { html } from './html.js';
import { Details, Problem, State, Status } from './widgets.js';

/** RFC 5280 §5.3.1 reasons an administrator picks from (removeFromCRL exists only in delta CRLs). */
const REASONS = [
  ['keyCompromise', 'Key compromise'],
  ['affiliationChanged', 'Affiliation changed'],
  ['superseded', 'Superseded'],
  ['cessationOfOperation', 'Cessation of operation'],
  ['privilegeWithdrawn', 'Privilege withdrawn'],
  ['certificateHold', 'Certificate hold'],
  ['unspecified', 'Unspecified'],
];

function RevokeDialog({ serial, subject, onClose, onRevoked }) {
  const ref = useRef(null);
  const [reason, setReason] = useState('keyCompromise');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const confirm = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api.post(`/certificates/${serial}/revoke`, { reason });
      onRevoked();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<dialog ref=${ref} onClose=${onClose} aria-labelledby="revoke-title">
    <form onSubmit=${confirm}>
      <h2 id="revoke-title">Revoke this certificate?</h2>
      <p>${subject}<br /><code>${serial}</code></p>
      <p class="muted">The CRL is re-published at once; OCSP answers revoked.</p>
      <label for="reason">Reason</label>
      <select id="reason" name="reason" value=${reason} onChange=${(e) => setReason(e.target.value)}>
        ${REASONS.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
      </select>
      ${error && html`<${Problem} error=${error} />`}
      <div class="actions">
        <button type="button" onClick=${() => ref.current?.close()}>Cancel</button>
        <button type="submit" class="danger" disabled=${busy}>Revoke</button>
      </div>
    </form>
  </dialog>`;
}

function Field({ label, children }) {
  return html`<dt>${label}</dt>
    <dd>${children}</dd>`;
}

function IntuneStatus({ intune }) {
  if (!intune.profile && !intune.validated) return html`not an Intune profile`;
  if (intune.validated === false) return html`not validated by Intune (renewal or static challenge)`;
  if (intune.notified === true)
    return html`<span class="badge ok">notified</span> Intune received the success notification`;
  if (intune.notified === false) return html`<span class="badge warn">not notified</span>`;
  return html`unknown`;
}

export function CertificatePage({ serial }) {
  const detail = useApi(`/certificates/${encodeURIComponent(serial)}`);
  const [revoking, setRevoking] = useState(false);
  const c = detail.data;
  if (detail.error)
    return html`<section>
      <h1>Certificate</h1>
      <${Problem} error=${detail.error} />
    </section>`;
  if (!c) return html`<p class="loading">Loading…</p>`;
  return html`<section class="detail">
    <p><a href="#/certificates">← Certificates</a></p>
    <h1>${c.subject || '(empty subject)'}</h1>
    <div class="toolbar">
      <${Status} status=${c.status} reason=${c.revocationReason} />
      <a class="button" href=${`/admin/api/certificates/${c.serial}/pem`} download=${`${c.serial}.pem`}
        >Download PEM</a
      >
      ${
        c.status === 'valid' || c.revocationReason === 'certificateHold'
          ? html`<button class="danger" onClick=${() => setRevoking(true)}>Revoke…</button>`
          : ''
      }
    </div>
    ${
      revoking &&
      html`<${RevokeDialog}
        serial=${c.serial}
        subject=${c.subject}
        onClose=${() => setRevoking(false)}
        onRevoked=${() => {
          setRevoking(false);
          detail.reload();
        }}
      />`
    }
    <div class="columns">
      <div class="card">
        <h2>Certificate</h2>
        <dl>
          <${Field} label="Serial"><code data-field="serial">${c.serial}</code><//>
          <${Field} label="Subject">${c.subject}<//>
          <${Field} label="Issuer">${c.issuer}<//>
          <${Field} label="SANs">${c.sans.length ? c.sans.join(', ') : '–'}<//>
          <${Field} label="Valid">${utc(c.notBefore)} → ${utc(c.notAfter)}<//>
          <${Field} label="Status"
            ><span data-field="status">${c.status}</span>${
              c.revokedAt ? ` at ${utc(c.revokedAt)} (${c.revocationReason})` : ''
            }<//
          >
          <${Field} label="Public key">${c.publicKey}<//>
          <${Field} label="Signature">${c.signatureAlgorithm}<//>
          <${Field} label="Profile">${c.profile}<//>
          <${Field} label="Device id">${c.deviceId ?? '–'}<//>
          <${Field} label="SHA-1"><code>${c.thumbprintSha1}</code><//>
          <${Field} label="SHA-256"><code class="wrap">${c.sha256}</code><//>
        </dl>
      </div>
      <div class="card">
        <h2>Enrollment</h2>
        <dl>
          ${
            c.transaction
              ? html`<${Field} label="Transaction"
                    ><code class="wrap">${c.transaction.transactionId}</code><//
                  >
                  <${Field} label="State"><${State} state=${c.transaction.state} /><//>
                  <${Field} label="Received">${utc(c.transaction.createdAt)}<//>`
              : html`<${Field} label="Transaction">${c.transactionId ?? '–'}<//>`
          }
          <${Field} label="Intune"><${IntuneStatus} intune=${c.intune} /><//>
        </dl>
        <h2>Chain</h2>
        <ol class="chain">
          ${c.chain.map((e) => html`<li>${e.subject} <span class="muted">until ${utc(e.notAfter)}</span></li>`)}
        </ol>
      </div>
    </div>
    <div class="card">
      <h2>Extensions</h2>
      <table class="extensions">
        <thead>
          <tr>
            <th>Extension</th>
            <th>Critical</th>
            <th>Value</th>
          </tr>
        </thead>
        <tbody>
          ${c.extensions.map(
            (e) =>
              html`<tr>
                <td>${e.name}<br /><span class="muted">${e.oid}</span></td>
                <td>${e.critical ? 'yes' : 'no'}</td>
                <td><pre>${e.text}</pre></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <div class="card">
      <h2>History</h2>
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>Actor</th>
            <th>Action</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          ${c.audit.map(
            (e) =>
              html`<tr>
                <td class="date">${utc(e.time)}</td>
                <td>${e.actor}</td>
                <td>${e.action}</td>
                <td><${Details} details=${e.details} /></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}
