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
