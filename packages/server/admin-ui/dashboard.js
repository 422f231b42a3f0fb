import { ActivityChart } from './chart.js';
import { day, utc } from './format.js';
import { useApi } from './hooks.js';
import { html } from './html.js';
import { Problem } from './widgets.js';

function Stat({ label, value, href, tone }) {
  return html`<a class=${`stat ${tone ?? ''}`} href=${href}>
    <span class="value" data-stat=${label}>${value}</span>
    <span class="label">${label}</span>
  </a>`;
}

function IntuneHealth({ report, configured }) {
  if (!report) {
    return html`<p class="muted">
      ${configured ? 'No doctor check has run yet (scepkit doctor, or intune.doctorAtStartup).' : 'Intune is not configured.'}
    </p>`;
  }
  return html`<div>
    <p>
      <span class=${`badge ${report.ok ? 'ok' : 'bad'}`}>${report.ok ? 'healthy' : 'failing'}</span>
      <span class="muted"> checked ${utc(report.checkedAt)}</span>
    </p>
    <ul class="steps">
      ${(report.steps ?? []).map(
        (s) =>
          html`<li class=${s.status}>
            <b>${s.name}</b> ${s.code ? html`<code>${s.code}</code>` : ''}
            <span class="muted">${s.detail}</span>
          </li>`,
      )}
    </ul>
  </div>`;
}

export function DashboardPage() {
  const summary = useApi('/summary', 30_000);
  const activity = useApi('/activity?hours=168', 60_000);
  const s = summary.data;
  return html`<section class="dashboard">
    <h1>Dashboard</h1>
    ${summary.error && html`<${Problem} error=${summary.error} />`}
    ${
      s &&
      html`<div class="stats">
        <${Stat} label="Issued" value=${s.counts.issued} href="#/certificates" />
        <${Stat} label="Revoked" value=${s.counts.revoked} href="#/certificates?status=revoked" />
        <${Stat}
          label="Expiring in 30 days"
          value=${s.counts.expiring30d}
          href="#/certificates?status=valid&expiringDays=30"
          tone=${s.counts.expiring30d > 0 ? 'warn' : ''}
        />
        <${Stat}
          label="Pending approval"
          value=${`${s.counts.pendingApproval}${s.counts.pendingCapped ? '+' : ''}`}
          href="#/requests?state=pending"
          tone=${s.counts.pendingApproval > 0 ? 'warn' : ''}
        />
      </div>`
    }
    <div class="card">
      <h2>Enrollments per hour, last 7 days</h2>
      ${activity.error && html`<${Problem} error=${activity.error} />`}
      ${activity.data ? html`<${ActivityChart} chart=${activity.data} />` : html`<p class="muted">Loading…</p>`}
    </div>
    ${
      s &&
      html`<div class="columns">
        <div class="card">
          <h2>CA certificates</h2>
          <table>
            <thead>
              <tr>
                <th>Role</th>
                <th>Subject</th>
                <th>Expires</th>
                <th>Days left</th>
              </tr>
            </thead>
            <tbody>
              ${s.certificates.map(
                (c) =>
                  html`<tr>
                    <td>${c.role}</td>
                    <td>${c.subject}</td>
                    <td class="date">${day(c.notAfter)}</td>
                    <td class=${c.daysLeft < 30 ? 'bad' : c.daysLeft < 90 ? 'warn' : ''}>${c.daysLeft}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>
        <div class="card">
          <h2>Intune connection</h2>
          <${IntuneHealth} report=${s.intune} configured=${s.intuneConfigured} />
        </div>
      </div>`
    }
  </section>`;
}
