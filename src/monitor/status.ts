// What the status page, its JSON API and feed, the SNMP agent and the alerts show: every
// component's status derived from the probe history of every node in the store, the
// maintenance windows and incidents, and the daily uptime. When the store cannot be
// read, this node's in-memory history stands in (and the store component shows why).
//
// Farm rule: a component is in the status every node sees when all agree; when some
// nodes fail it and others pass, it is a partial outage. A node whose latest result is
// older than three probe intervals has left and is not counted.
import type { Store } from '../store/store.js';
import type { Incident, Maintenance, ProbeDay, ProbeRecord } from '../store/sql/monitoring.js';
import { dayOf } from '../store/sql/monitoring.js';
import { deriveStatus, type ComponentStatus, type ProbeHistory } from './history.js';
import { COMPONENT_TITLES, COMPONENTS, type Component } from './probes/index.js';

export interface UptimeDay {
  /** YYYY-MM-DD (UTC). */
  date: string;
  /** null: no probe ran that day. */
  uptime: number | null;
  runs: number;
  failures: number;
}

export interface ComponentSummary {
  id: string;
  name: string;
  status: ComponentStatus;
  /** Status per node (farm mode); one entry on a single node. */
  nodes: Record<string, ComponentStatus>;
  lastProbeAt: string | null;
  lastLatencyMs: number | null;
  /** Oldest first; null: a failed run. */
  recentLatenciesMs: Array<number | null>;
  /** Over the days shown, in percent with two decimals; null when nothing ran. */
  uptimePercent: number | null;
  /** Oldest first, one per day. */
  uptimeDays: UptimeDay[];
}

export interface PublicUpdate {
  at: string;
  stage: string;
  body: string;
}

export interface PublicIncident {
  id: number;
  title: string;
  impact: string;
  stage: string;
  components: string[];
  issues: Array<{ title: string; state: string }>;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  /** Newest first. */
  updates: PublicUpdate[];
}

export interface PublicMaintenance {
  id: number;
  title: string;
  description: string;
  components: string[];
  startsAt: string;
  endsAt: string;
  active: boolean;
}

export interface StatusSummary {
  status: ComponentStatus;
  updatedAt: string;
  /** false: the store could not be read; this node's own view is shown. */
  complete: boolean;
  components: ComponentSummary[];
  maintenance: PublicMaintenance[];
  openIncidents: PublicIncident[];
  pastIncidents: PublicIncident[];
}

export interface StatusSources {
  store: Store;
  /** This node's results, kept in memory. */
  history: ProbeHistory;
  /** The components this node probes. */
  components: () => readonly Component[];
  intervalSeconds: number;
  uptimeDays: number;
  now?: () => Date;
  /**
   * The certificates this node serves (src/tls certificateSummaries()): one expiring
   * (fewer than tls.expiry_warning_days left) makes the "certificates" component degraded,
   * an expired one an outage — Outlook refuses an expired certificate outright.
   */
  certificates?: () => ReadonlyArray<{ names: readonly string[]; status: 'ok' | 'expiring' | 'expired' }>;
}

function certificatesComponent(list: ReadonlyArray<{ names: readonly string[]; status: 'ok' | 'expiring' | 'expired' }>, now: Date): ComponentSummary {
  const status: ComponentStatus = list.some((c) => c.status === 'expired') ? 'partial outage' : list.some((c) => c.status === 'expiring') ? 'degraded performance' : 'operational';
  return {
    id: 'certificates',
    name: 'TLS certificates',
    status,
    nodes: {},
    lastProbeAt: now.toISOString(),
    lastLatencyMs: null,
    recentLatenciesMs: [],
    uptimePercent: null,
    uptimeDays: [],
  };
}

const SEVERITY: ComponentStatus[] = ['operational', 'unknown', 'under maintenance', 'degraded performance', 'partial outage', 'major outage'];
export const severity = (s: ComponentStatus): number => SEVERITY.indexOf(s);

export function worst(statuses: Iterable<ComponentStatus>): ComponentStatus {
  let w: ComponentStatus | undefined;
  for (const s of statuses) if (w === undefined || severity(s) > severity(w)) w = s;
  return w ?? 'unknown';
}

/** Several nodes' views of one component → one status. */
export function combineNodes(statuses: readonly ComponentStatus[]): ComponentStatus {
  const known = statuses.filter((s) => s !== 'unknown');
  if (known.length === 0) return 'unknown';
  if (known.every((s) => s === known[0])) return known[0]!;
  const down = known.some((s) => s === 'partial outage' || s === 'major outage');
  return down ? 'partial outage' : worst(known);
}

export function componentTitle(id: string): string {
  return (COMPONENT_TITLES as Record<string, string>)[id] ?? id;
}

/** Whether the window is on now and covers the component (no components listed: all). */
export function covers(window: Maintenance, component: string, now: Date): boolean {
  return window.cancelledAt === null && window.startsAt <= now && now < window.endsAt && (window.components.length === 0 || window.components.includes(component));
}

function publicIncident(i: Incident): PublicIncident {
  return {
    id: i.id,
    title: i.title,
    impact: i.impact,
    stage: i.stage,
    components: i.components,
    issues: i.issues.map((x) => ({ title: x.title, state: x.state })),
    createdAt: i.createdAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
    resolvedAt: i.resolvedAt?.toISOString() ?? null,
    updates: [...i.updates].reverse().map((u) => ({ at: u.at.toISOString(), stage: u.stage, body: u.body })),
  };
}

function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

function uptimeOf(days: readonly ProbeDay[], component: string, today: number, count: number): { percent: number | null; days: UptimeDay[] } {
  const byDay = new Map<number, { runs: number; failures: number }>();
  for (const d of days) {
    if (d.component !== component) continue;
    const sum = byDay.get(d.day) ?? { runs: 0, failures: 0 };
    sum.runs += d.runs;
    sum.failures += d.failures;
    byDay.set(d.day, sum);
  }
  let runs = 0;
  let failures = 0;
  const out: UptimeDay[] = [];
  for (let day = today - count + 1; day <= today; day++) {
    const sum = byDay.get(day) ?? { runs: 0, failures: 0 };
    runs += sum.runs;
    failures += sum.failures;
    out.push({ date: isoDay(day), uptime: sum.runs === 0 ? null : (sum.runs - sum.failures) / sum.runs, runs: sum.runs, failures: sum.failures });
  }
  return { percent: runs === 0 ? null : Math.round(((runs - failures) / runs) * 10_000) / 100, days: out };
}

/** Per component, per node: the node's recent results (oldest first), fresh nodes only. */
function byNode(records: readonly ProbeRecord[], staleBefore: number): Map<string, Map<string, ProbeRecord[]>> {
  const out = new Map<string, Map<string, ProbeRecord[]>>();
  for (const r of records) {
    const nodes = out.get(r.component) ?? new Map<string, ProbeRecord[]>();
    const list = nodes.get(r.node) ?? [];
    list.push(r);
    nodes.set(r.node, list);
    out.set(r.component, nodes);
  }
  for (const nodes of out.values()) for (const [node, list] of nodes) if ((list.at(-1)?.at.getTime() ?? 0) < staleBefore) nodes.delete(node);
  return out;
}

export async function buildSummary(sources: StatusSources): Promise<StatusSummary> {
  const now = sources.now?.() ?? new Date();
  const intervalMs = sources.intervalSeconds * 1000;
  const today = dayOf(now);
  let records: ProbeRecord[] | undefined;
  let days: ProbeDay[] = [];
  let windows: Maintenance[] = [];
  let incidents: Incident[] = [];
  let open: Incident[] = [];
  try {
    const m = sources.store.monitoring;
    [records, days, windows, open, incidents] = await Promise.all([
      m.recentProbes({ since: new Date(now.getTime() - Math.max(30 * intervalMs, 15 * 60_000)), limit: 20_000 }),
      m.probeDays(today - sources.uptimeDays + 1),
      m.listMaintenance({ endsAfter: now }),
      m.listIncidents({ open: true, limit: 50 }),
      m.listIncidents({ since: new Date(now.getTime() - sources.uptimeDays * 86_400_000), limit: 50 }),
    ]);
  } catch {
    records = undefined;
  }

  const staleBefore = now.getTime() - 3 * intervalMs - 60_000;
  const grouped = records ? byNode(records, staleBefore) : new Map<string, Map<string, ProbeRecord[]>>();
  const ids = new Set<string>(sources.components());
  for (const id of grouped.keys()) ids.add(id);
  const ordered = [...ids].sort((a, b) => {
    const ia = (COMPONENTS as readonly string[]).indexOf(a);
    const ib = (COMPONENTS as readonly string[]).indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });

  const components = ordered.map((id): ComponentSummary => {
    const nodes: Record<string, ComponentStatus> = {};
    let all: ProbeRecord[] | ReturnType<ProbeHistory['recent']>;
    let latest: { at: Date; ms: number } | undefined;
    if (records) {
      const perNode = grouped.get(id) ?? new Map<string, ProbeRecord[]>();
      for (const [node, list] of perNode) nodes[node] = deriveStatus(list.map((r) => ({ ok: r.ok, ms: r.ms, nothingAnswered: r.steps > 0 && r.failedSteps.length >= r.steps })));
      all = [...perNode.values()].flat().sort((a, b) => a.at.getTime() - b.at.getTime());
      latest = all.at(-1);
    } else {
      all = sources.history.recent(id as Component);
      if (all.length > 0) nodes.self = sources.history.status(id as Component);
      latest = all.at(-1);
    }
    let status = combineNodes(Object.values(nodes));
    if (windows.some((w) => covers(w, id, now))) status = 'under maintenance';
    const uptime = uptimeOf(days, id, today, sources.uptimeDays);
    return {
      id,
      name: componentTitle(id),
      status,
      nodes,
      lastProbeAt: latest ? latest.at.toISOString() : null,
      lastLatencyMs: latest ? Math.round(latest.ms) : null,
      recentLatenciesMs: all.slice(-30).map((r) => (r.ok ? Math.round(r.ms) : null)),
      uptimePercent: uptime.percent,
      uptimeDays: uptime.days,
    };
  });

  const certificates = sources.certificates?.() ?? [];
  if (certificates.length > 0) {
    const c = certificatesComponent(certificates, now);
    if (windows.some((w) => covers(w, c.id, now))) c.status = 'under maintenance';
    components.push(c);
  }
  const openIds = new Set(open.map((i) => i.id));
  return {
    status: components.length === 0 ? 'unknown' : worst(components.map((c) => c.status)),
    updatedAt: now.toISOString(),
    complete: records !== undefined,
    components,
    maintenance: windows.map((w) => ({
      id: w.id,
      title: w.title,
      description: w.description,
      components: w.components,
      startsAt: w.startsAt.toISOString(),
      endsAt: w.endsAt.toISOString(),
      active: w.startsAt <= now,
    })),
    openIncidents: open.map(publicIncident),
    pastIncidents: incidents.filter((i) => !openIds.has(i.id)).map(publicIncident),
  };
}
