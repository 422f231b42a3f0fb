import { html } from './html.js';

export function Problem({ error }) {
  return html`<p class="error" role="alert">${error.message ?? String(error)}</p>`;
}

export function Status({ status, reason }) {
  return html`<span class=${`badge ${status === 'valid' ? 'ok' : 'bad'}`}
    >${status}${reason ? ` (${reason})` : ''}</span
  >`;
}

const STATE_TONE = { issued: 'ok', approved: 'ok', pending: 'warn', failed: 'bad', rejected: 'bad' };

export function State({ state, awaiting }) {
  return html`<span class=${`badge ${STATE_TONE[state] ?? ''}`}
    >${awaiting ? 'awaiting approval' : state}</span
  >`;
}

/** Previous / next page links for offset paging. */
export function Pager({ offset, limit, more, go }) {
  if (offset === 0 && !more) return null;
  return html`<div class="pager">
    <button disabled=${offset === 0} onClick=${() => go(Math.max(0, offset - limit))}>Newer</button>
    <button disabled=${!more} onClick=${() => go(offset + limit)}>Older</button>
  </div>`;
}

/** RFC 5280 CRLReason codes, as the audit log records them for revocations. */
const CRL_REASONS = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

function value(k, v) {
  if (k === 'reason' && typeof v === 'number') return CRL_REASONS[v] ?? String(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Audit details as `key value` pairs, most telling first (failInfo and reason before the profile). */
export function Details({ details }) {
  const order = ['failInfo', 'reason', 'error', 'profile', 'messageType', 'remoteAddress'];
  const keys = Object.keys(details ?? {}).sort(
    (a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99),
  );
  return html`<span class="details">
    ${keys.map((k) => html`<span class="kv"><span class="k">${k}</span>${value(k, details[k])}</span>`)}
  </span>`;
}
