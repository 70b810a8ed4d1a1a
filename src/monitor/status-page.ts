// The public status page: server-rendered HTML without scripts, and the same data as JSON.
// Only component names, statuses, times and latencies are shown — never step errors,
// which can name internal addresses.
import { COMPONENT_TITLES, type Component } from './probes/index.js';
import type { ComponentStatus, ProbeHistory } from './history.js';

export interface ComponentSummary {
  id: Component;
  name: string;
  status: ComponentStatus;
  lastProbeAt: string | null;
  lastLatencyMs: number | null;
  /** Oldest first. */
  recentLatenciesMs: Array<number | null>;
}

export interface StatusSummary {
  status: ComponentStatus;
  updatedAt: string;
  components: ComponentSummary[];
}

const SEVERITY: ComponentStatus[] = ['operational', 'unknown', 'degraded performance', 'partial outage', 'major outage'];

export function summarize(history: ProbeHistory, components: readonly Component[], now = new Date()): StatusSummary {
  const list = components.map((id): ComponentSummary => {
    const recent = history.recent(id);
    const last = recent.at(-1);
    return {
      id,
      name: COMPONENT_TITLES[id],
      status: history.status(id),
      lastProbeAt: last ? last.at.toISOString() : null,
      lastLatencyMs: last ? Math.round(last.ms) : null,
      recentLatenciesMs: recent.slice(-30).map((r) => (r.ok ? Math.round(r.ms) : null)),
    };
  });
  const worst = list.reduce<ComponentStatus>((w, c) => (SEVERITY.indexOf(c.status) > SEVERITY.indexOf(w) ? c.status : w), 'operational');
  return { status: list.length === 0 ? 'unknown' : worst, updatedAt: now.toISOString(), components: list };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const HEADLINE: Record<ComponentStatus, string> = {
  operational: 'All systems operational',
  'degraded performance': 'Some services are slow',
  'partial outage': 'Some services are not working',
  'major outage': 'Major outage',
  unknown: 'Status not yet known',
};

function bars(latencies: Array<number | null>): string {
  const max = Math.max(1, ...latencies.map((l) => l ?? 0));
  return latencies
    .map((l) =>
      l === null
        ? '<span class="bar fail" title="failed"></span>'
        : `<span class="bar" style="height:${Math.max(2, Math.round((l / max) * 24))}px" title="${l} ms"></span>`,
    )
    .join('');
}

export function renderStatusPage(summary: StatusSummary, hostname: string): string {
  const rows = summary.components
    .map(
      (c) => `<tr class="${c.status.replace(/ /g, '-')}">
  <th scope="row">${escapeHtml(c.name)}</th>
  <td class="status">${escapeHtml(c.status)}</td>
  <td>${c.lastLatencyMs === null ? '—' : `${c.lastLatencyMs} ms`}</td>
  <td class="spark">${bars(c.recentLatenciesMs)}</td>
  <td>${c.lastProbeAt === null ? 'never' : `<time datetime="${c.lastProbeAt}">${escapeHtml(c.lastProbeAt.replace('T', ' ').slice(0, 19))} UTC</time>`}</td>
</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>${escapeHtml(hostname)} status</title>
<style>
body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.headline{padding:1rem;border-radius:.4rem;background:#e6f4ea}
.headline.degraded-performance{background:#fef7e0}.headline.partial-outage{background:#fde8d8}
.headline.major-outage{background:#fce8e6}.headline.unknown{background:#eee}
table{width:100%;border-collapse:collapse;margin-top:1rem}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ddd}
tr.operational .status{color:#137333}tr.degraded-performance .status{color:#b06000}
tr.partial-outage .status{color:#c5221f}tr.major-outage .status{color:#a50e0e;font-weight:bold}
.spark{white-space:nowrap}.bar{display:inline-block;width:4px;margin-right:1px;background:#5b8def;vertical-align:bottom}
.bar.fail{height:24px;background:#d93025}
</style>
</head>
<body>
<h1>${escapeHtml(hostname)} — service status</h1>
<p class="headline ${summary.status.replace(/ /g, '-')}">${HEADLINE[summary.status]}</p>
<table>
<thead><tr><th>Component</th><th>Status</th><th>Response time</th><th>Recent checks</th><th>Last checked</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p><small>Updated ${escapeHtml(summary.updatedAt)}. Machine-readable: <a href="/status.json">/status.json</a>.</small></p>
</body>
</html>
`;
}
