// Enrollments per hour as stacked SVG bars (our own code: one <rect> per series and hour, with a <title>).
import { html } from './html.js';

export const SERIES = [
  { key: 'issued', label: 'Issued' },
  { key: 'pending', label: 'Pending approval' },
  { key: 'policy', label: 'Refused by policy' },
  { key: 'intune', label: 'Refused by Intune' },
  { key: 'error', label: 'Error' },
];

const W = 960;
const H = 220;
const PAD = { left: 36, right: 8, top: 10, bottom: 26 };

function niceMax(n) {
  if (n <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return n;
}

function hourTitle(b) {
  const when = `${b.hour.slice(0, 13).replace('T', ' ')}:00 UTC`;
  const lines = SERIES.filter((s) => b.counts[s.key] > 0).map((s) => `${s.label}: ${b.counts[s.key]}`);
  for (const r of b.refusals)
    lines.push(`  ${r.series === 'intune' ? 'Intune' : 'failInfo'} ${r.label}: ${r.count}`);
  return [when, ...(lines.length ? lines : ['no enrollments'])].join('\n');
}

/** Refusals over the whole window by reason, most frequent first: `[{ series, label, count }]`. */
function refusalTotals(buckets) {
  const totals = new Map();
  for (const b of buckets) {
    for (const r of b.refusals) {
      const key = `${r.series}\u0000${r.label}`;
      const t = totals.get(key) ?? { series: r.series, label: r.label, count: 0 };
      t.count += r.count;
      totals.set(key, t);
    }
  }
  return [...totals.values()].sort((a, b) => b.count - a.count);
}

function Refusals({ buckets }) {
  const all = refusalTotals(buckets);
  if (all.length === 0) return null;
  return html`<dl class="refusals">
    ${['intune', 'policy'].map((series) => {
      const rows = all.filter((r) => r.series === series);
      return (
        rows.length > 0 &&
        html`<dt>${series === 'intune' ? 'Refused by Intune' : 'Refused by policy'}</dt>
          <dd>
            ${rows.map(
              (r) =>
                html`<span class="kv" data-refusal=${`${series}:${r.label}`}
                  ><code>${r.label}</code> ${r.count}</span
                >`,
            )}
          </dd>`
      );
    })}
  </dl>`;
}

export function ActivityChart({ chart }) {
  const { buckets, totals } = chart;
  const max = niceMax(Math.max(0, ...buckets.map((b) => SERIES.reduce((n, s) => n + b.counts[s.key], 0))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / buckets.length;
  const barW = Math.max(1, step - 1);
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const ticks = [0, max / 2, max];
  return html`<figure class="chart">
    <svg
      viewBox=${`0 0 ${W} ${H}`}
      role="img"
      aria-label=${`Enrollments per hour from ${chart.from} to ${chart.to}`}
      data-testid="activity-chart"
    >
      ${ticks.map(
        (t) =>
          html`<g class="tick">
            <line x1=${PAD.left} x2=${W - PAD.right} y1=${y(t)} y2=${y(t)} />
            <text x=${PAD.left - 6} y=${y(t) + 4} text-anchor="end">${t}</text>
          </g>`,
      )}
      ${buckets.map((b, i) => {
        const x = PAD.left + i * step;
        let acc = 0;
        const midnight = b.hour.slice(11, 13) === '00';
        return html`<g class="hour" data-hour=${b.hour}>
          <title>${hourTitle(b)}</title>
          <rect class="hit" x=${x} y=${PAD.top} width=${step} height=${plotH} />
          ${SERIES.filter((s) => b.counts[s.key] > 0).map((s) => {
            const v = b.counts[s.key];
            const top = y(acc + v);
            const height = y(acc) - top;
            acc += v;
            return html`<rect
              class=${`bar s-${s.key}`}
              data-series=${s.key}
              data-count=${v}
              x=${x}
              y=${top}
              width=${barW}
              height=${height}
            />`;
          })}
          ${
            midnight &&
            html`<text class="day" x=${x} y=${H - 8}>${b.hour.slice(5, 10)}</text>
              <line class="day" x1=${x} x2=${x} y1=${PAD.top} y2=${PAD.top + plotH} />`
          }
        </g>`;
      })}
    </svg>
    <figcaption class="legend">
      ${SERIES.map(
        (s) =>
          html`<span class="key" data-series=${s.key}
            ><i class=${`swatch s-${s.key}`}></i>${s.label} <b data-total=${s.key}>${totals[s.key]}</b></span
          >`,
      )}
    </figcaption>
    <${Refusals} buckets=${buckets} />
  </figure>`;
}
