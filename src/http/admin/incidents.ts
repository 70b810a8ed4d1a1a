// Incidents on the public status page: the same store functions and validation as
// `steadymail incident` (src/cli/incident.ts); the store refuses bad stages and impacts.

import { actorName, audit, body, int, invalid, notFound, str, type AdminCall } from './common.js';
import type { Incident, IncidentImpact, IncidentStage, KnownIssue } from '../../store/sql/monitoring.js';

function components(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 50 || !value.every((c) => typeof c === 'string')) throw invalid('components must be an array of component ids');
  return value;
}

function issues(value: unknown): KnownIssue[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 50) throw invalid('issues must be an array of { title, state }');
  return value.map((i: unknown) => {
    const o = (i ?? {}) as Record<string, unknown>;
    return { title: str(o.title, 'issue title', { max: 200 }), state: str(o.state, 'issue state', { max: 20 }) as IncidentStage };
  });
}

async function incident(call: AdminCall): Promise<Incident> {
  const id = int(call.params.id, 'id', 0, 1, Number.MAX_SAFE_INTEGER);
  const i = await call.ctx.store.monitoring.getIncident(id);
  if (!i) throw notFound(`incident ${id}`);
  return i;
}

export async function listIncidents(call: AdminCall): Promise<{ incidents: Incident[] }> {
  const open = call.query.open === 'true' ? { open: true } : {};
  return { incidents: await call.ctx.store.monitoring.listIncidents({ ...open, limit: int(call.query.limit, 'limit', 100, 1, 1000) }) };
}

export async function openIncident(call: AdminCall): Promise<Incident> {
  const b = body(call);
  const stage = str(b.stage, 'stage', { max: 20, optional: true }) as IncidentStage | undefined;
  const issueList = issues(b.issues);
  const created = await call.ctx.store.monitoring.openIncident({
    title: str(b.title, 'title', { max: 500 }),
    impact: (str(b.impact, 'impact', { max: 20, optional: true }) ?? 'minor') as IncidentImpact,
    components: components(b.components) ?? [],
    body: str(b.body, 'body', { max: 10_000 }),
    author: actorName(call.actor),
    ...(stage ? { stage } : {}),
    ...(issueList ? { issues: issueList } : {}),
  });
  await audit(call, 'incident.open', `incident ${created.id}: ${created.title}`);
  return created;
}

export async function updateIncident(call: AdminCall): Promise<Incident> {
  const i = await incident(call);
  const b = body(call);
  const stage = str(b.stage, 'stage', { max: 20, optional: true }) as IncidentStage | undefined;
  const impact = str(b.impact, 'impact', { max: 20, optional: true }) as IncidentImpact | undefined;
  const comps = components(b.components);
  const issueList = issues(b.issues);
  const updated = await call.ctx.store.monitoring.updateIncident(i.id, {
    body: str(b.body, 'body', { max: 10_000 }),
    author: actorName(call.actor),
    ...(stage ? { stage } : {}),
    ...(impact ? { impact } : {}),
    ...(comps ? { components: comps } : {}),
    ...(issueList ? { issues: issueList } : {}),
  });
  await audit(call, 'incident.update', `incident ${i.id}: ${i.title}`, { stage: updated.stage });
  return updated;
}

export async function resolveIncident(call: AdminCall): Promise<Incident> {
  const i = await incident(call);
  const text = str(body(call).body, 'body', { max: 10_000, optional: true });
  const updated = await call.ctx.store.monitoring.updateIncident(i.id, { body: text ?? 'Resolved.', author: actorName(call.actor), stage: 'resolved' });
  await audit(call, 'incident.resolve', `incident ${i.id}: ${i.title}`);
  return updated;
}
