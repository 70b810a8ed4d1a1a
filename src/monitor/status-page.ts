// The public status page: server-rendered HTML without scripts, and an Atom feed of the
// incidents. Only component names, statuses, times, latencies, uptime and what operators
// wrote in incidents and maintenance notices are shown — never probe errors, which can
// name internal addresses, and never user data.
import type { ComponentStatus } from './history.js';
import { componentTitle, type PublicIncident, type StatusSummary } from './status.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const HEADLINE: Record<ComponentStatus, string> = {
  operational: 'All systems operational',
  'degraded performance': 'Some services are slow',
  'partial outage': 'Some services are not working',
  'major outage': 'Major outage',
  'under maintenance': 'Maintenance in progress',
  unknown: 'Status not yet known',
};

const cls = (s: string): string => s.replace(/[^a-z]+/g, '-');

function time(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.replace('T', ' ').slice(0, 16))} UTC</time>`;
}

function sparkline(latencies: Array<number | null>): string {
  const max = Math.max(1, ...latencies.map((l) => l ?? 0));
  return latencies
    .map((l) =>
      l === null
        ? '<span class="bar fail" title="failed"></span>'
        : `<span class="bar" style="height:${Math.max(2, Math.round((l / max) * 24))}px" title="${l} ms"></span>`,
    )
    .join('');
}

function uptimeBars(days: StatusSummary['components'][number]['uptimeDays']): string {
  return days
    .map((d) => {
      const level = d.uptime === null ? 'none' : d.uptime >= 0.999 ? 'up' : d.uptime >= 0.95 ? 'some' : 'down';
      const title = d.uptime === null ? `${d.date}: no data` : `${d.date}: ${(d.uptime * 100).toFixed(2)}% (${d.failures} of ${d.runs} checks failed)`;
      return `<span class="day ${level}" title="${escapeHtml(title)}"></span>`;
    })
    .join('');
}

function components(list: readonly string[]): string {
  return list.length === 0 ? 'all services' : list.map((c) => escapeHtml(componentTitle(c))).join(', ');
}

function incident(i: PublicIncident): string {
  const issues =
    i.issues.length === 0
      ? ''
      : `<ul class="issues">${i.issues.map((x) => `<li>${escapeHtml(x.title)} — <span class="stage ${cls(x.state)}">${escapeHtml(x.state)}</span></li>`).join('')}</ul>`;
  const updates = i.updates
    .map((u) => `<li>${time(u.at)} <span class="stage ${cls(u.stage)}">${escapeHtml(u.stage)}</span><p>${escapeHtml(u.body)}</p></li>`)
    .join('\n');
  return `<article class="incident impact-${cls(i.impact)}" id="incident-${i.id}">
<h3>${escapeHtml(i.title)} <span class="stage ${cls(i.stage)}">${escapeHtml(i.stage)}</span></h3>
<p class="meta">Impact: ${escapeHtml(i.impact)} · Affects: ${components(i.components)} · Since ${time(i.createdAt)}${i.resolvedAt ? ` · Resolved ${time(i.resolvedAt)}` : ''}</p>
${issues}
<ol class="updates">
${updates}
</ol>
</article>`;
}

/**
 * In a farm: how many nodes see the component in each status, when they disagree
 * ("1 of 3 nodes: major outage"). Counts only: node names stay off the public page.
 */
function farmNote(nodes: Record<string, string>): string {
  const statuses = Object.values(nodes);
  if (statuses.length < 2 || statuses.every((s) => s === statuses[0])) return '';
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  const parts = [...counts].filter(([s]) => s !== 'operational').map(([s, n]) => `${n} of ${statuses.length} nodes: ${escapeHtml(s)}`);
  return parts.length === 0 ? '' : `<br><small class="nodes">${parts.join('; ')}</small>`;
}

export function renderStatusPage(summary: StatusSummary, hostname: string): string {
  const rows = summary.components
    .map(
      (c) => `<tr class="${cls(c.status)}" id="component-${escapeHtml(c.id)}">
  <th scope="row">${escapeHtml(c.name)}${farmNote(c.nodes)}</th>
  <td class="status">${escapeHtml(c.status)}</td>
  <td>${c.lastLatencyMs === null ? '—' : `${c.lastLatencyMs} ms`}</td>
  <td class="spark">${sparkline(c.recentLatenciesMs)}</td>
  <td class="uptime"><div class="days">${uptimeBars(c.uptimeDays)}</div><small>${c.uptimePercent === null ? 'no data' : `${c.uptimePercent.toFixed(2)}% uptime`} · ${c.uptimeDays.length} days</small></td>
</tr>`,
    )
    .join('\n');
  const maintenance = summary.maintenance
    .map(
      (w) => `<article class="maintenance${w.active ? ' active' : ''}">
<h3>${escapeHtml(w.title)} <span class="stage">${w.active ? 'in progress' : 'scheduled'}</span></h3>
<p class="meta">${time(w.startsAt)} – ${time(w.endsAt)} · Affects: ${components(w.components)}</p>
${w.description ? `<p>${escapeHtml(w.description)}</p>` : ''}
</article>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>${escapeHtml(hostname)} status</title>
<link rel="alternate" type="application/atom+xml" title="Incidents" href="/status/feed.atom">
<style>
body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem;margin:.2rem 0}
.headline{padding:1rem;border-radius:.4rem;background:#e6f4ea}
.headline.degraded-performance{background:#fef7e0}.headline.partial-outage{background:#fde8d8}
.headline.major-outage{background:#fce8e6}.headline.unknown{background:#eee}.headline.under-maintenance{background:#e8f0fe}
table{width:100%;border-collapse:collapse;margin-top:1rem}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ddd;vertical-align:middle}
tr.operational .status{color:#137333}tr.degraded-performance .status{color:#b06000}tr.under-maintenance .status{color:#1a57c6}
tr.partial-outage .status{color:#c5221f}tr.major-outage .status{color:#a50e0e;font-weight:bold}
.spark{white-space:nowrap}.bar{display:inline-block;width:4px;margin-right:1px;background:#5b8def;vertical-align:bottom}
.bar.fail{height:24px;background:#d93025}
.days{display:flex;gap:1px;height:24px}.day{flex:1;min-width:2px;background:#ccc}.day.up{background:#34a853}.day.some{background:#fbbc04}.day.down{background:#d93025}
article{border:1px solid #ddd;border-radius:.4rem;padding:.75rem 1rem;margin:.75rem 0}
article.impact-major,article.impact-critical{border-color:#d93025}.meta{color:#555;font-size:.9rem;margin:.2rem 0}
.stage{font-size:.8rem;padding:.1rem .4rem;border-radius:.3rem;background:#eee;font-weight:normal}
.stage.resolved{background:#e6f4ea}.stage.investigating{background:#fce8e6}.stage.identified{background:#fef7e0}.stage.monitoring{background:#e8f0fe}
.updates{list-style:none;padding:0}.updates li{margin:.5rem 0}.updates p{margin:.2rem 0 0}
</style>
</head>
<body>
<h1>${escapeHtml(hostname)} — service status</h1>
<p class="headline ${cls(summary.status)}">${HEADLINE[summary.status]}</p>
${summary.openIncidents.length > 0 ? `<section id="open-incidents"><h2>Current incidents</h2>\n${summary.openIncidents.map(incident).join('\n')}</section>` : ''}
${summary.maintenance.length > 0 ? `<section id="maintenance"><h2>Maintenance</h2>\n${maintenance}</section>` : ''}
<section id="components">
<h2>Components</h2>
<table>
<thead><tr><th>Component</th><th>Status</th><th>Response time</th><th>Recent checks</th><th>Uptime</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>
<section id="past-incidents"><h2>Past incidents</h2>
${summary.pastIncidents.length > 0 ? summary.pastIncidents.map(incident).join('\n') : '<p>No incidents reported.</p>'}
</section>
<p><small>Updated ${time(summary.updatedAt)}${summary.complete ? '' : ' from this server only: the shared history cannot be read right now'}. Machine-readable: <a href="/status/api/v1/summary">JSON</a>, <a href="/status/feed.atom">Atom feed of incidents</a>.</small></p>
</body>
</html>
`;
}

function escapeXml(text: string): string {
  // Characters XML 1.0 does not allow at all are dropped.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** RFC 4287: one entry per incident (open and recent), updated when it last changed. */
export function renderAtomFeed(summary: StatusSummary, hostname: string, baseUrl: string): string {
  const incidents = [...summary.openIncidents, ...summary.pastIncidents].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const updated = incidents[0]?.updatedAt ?? summary.updatedAt;
  const tag = (i: PublicIncident) => `tag:${hostname},${i.createdAt.slice(0, 10)}:incident/${i.id}`;
  const entries = incidents
    .map((i) => {
      const text = [
        `Impact: ${i.impact}. Affects: ${i.components.length === 0 ? 'all services' : i.components.map(componentTitle).join(', ')}.`,
        ...i.issues.map((x) => `Known issue: ${x.title} — ${x.state}`),
        ...i.updates.map((u) => `${u.at} ${u.stage}: ${u.body}`),
      ].join('\n');
      return `  <entry>
    <id>${escapeXml(tag(i))}</id>
    <title>${escapeXml(`${i.title} [${i.stage}]`)}</title>
    <updated>${i.updatedAt}</updated>
    <published>${i.createdAt}</published>
    <link rel="alternate" type="text/html" href="${escapeXml(`${baseUrl}/status#incident-${i.id}`)}"/>
    <content type="text">${escapeXml(text)}</content>
  </entry>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${escapeXml(`tag:${hostname},2026:status`)}</id>
  <title>${escapeXml(`${hostname} incidents`)}</title>
  <updated>${updated}</updated>
  <author><name>${escapeXml(hostname)}</name></author>
  <link rel="self" type="application/atom+xml" href="${escapeXml(`${baseUrl}/status/feed.atom`)}"/>
  <link rel="alternate" type="text/html" href="${escapeXml(`${baseUrl}/status`)}"/>
${entries}
</feed>
`;
}
