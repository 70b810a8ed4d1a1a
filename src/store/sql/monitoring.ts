// The monitor's rows: probe results per node (and their daily roll-up, which the 90-day
// uptime bars read), incidents with their timestamped updates, maintenance windows, and
// the alert state every node shares (so one status change is announced once, not once
// per node). Reads go to the database; writes through the store's WriteBatcher.

import type { Kysely, Selectable } from 'kysely';
import type { Database, MonitorIncidentsTable, MonitorMaintenanceTable, MonitorAlertStateTable } from './schema.js';
import type { Tx, WriteBatcher } from './write-batch.js';
import { InvalidInput, NotFound } from '../errors.js';

export const INCIDENT_STAGES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStage = (typeof INCIDENT_STAGES)[number];
export const INCIDENT_IMPACTS = ['none', 'minor', 'major', 'critical'] as const;
export type IncidentImpact = (typeof INCIDENT_IMPACTS)[number];

/** One known issue of an incident, with its own state ("POP3 errors in Outlook — resolved"). */
export interface KnownIssue {
  title: string;
  state: IncidentStage;
}

export interface IncidentUpdate {
  id: number;
  at: Date;
  stage: IncidentStage;
  body: string;
  author: string;
}

export interface Incident {
  id: number;
  title: string;
  impact: IncidentImpact;
  components: string[];
  stage: IncidentStage;
  issues: KnownIssue[];
  /** Opened by the monitor (a component failing), not by an operator. */
  automatic: boolean;
  createdAt: Date;
  updatedAt: Date;
  resolvedAt: Date | null;
  /** Oldest first. */
  updates: IncidentUpdate[];
}

export interface NewIncident {
  title: string;
  impact: IncidentImpact;
  components: string[];
  body: string;
  author: string;
  stage?: IncidentStage;
  issues?: KnownIssue[];
  automatic?: boolean;
  at?: Date;
}

export interface IncidentChange {
  body: string;
  author: string;
  /** Unchanged when left out. */
  stage?: IncidentStage;
  impact?: IncidentImpact;
  components?: string[];
  /** Merged by title: a known title gets the new state, a new one is added. */
  issues?: KnownIssue[];
  at?: Date;
}

export interface Maintenance {
  id: number;
  title: string;
  description: string;
  /** Empty: every component. */
  components: string[];
  startsAt: Date;
  endsAt: Date;
  cancelledAt: Date | null;
  createdAt: Date;
}

export interface NewMaintenance {
  title: string;
  description?: string;
  components: string[];
  startsAt: Date;
  endsAt: Date;
}

export interface ProbeRecord {
  node: string;
  component: string;
  at: Date;
  ok: boolean;
  ms: number;
  /** Steps run (all of them failed when equal to failedSteps.length). */
  steps: number;
  failedSteps: string[];
}

export interface ProbeDay {
  node: string;
  component: string;
  /** Days since 1970-01-01 UTC. */
  day: number;
  runs: number;
  failures: number;
  totalMs: number;
}

export interface AlertState {
  component: string;
  status: string;
  since: Date;
  notifiedStatus: string | null;
  notifiedAt: Date | null;
}

export interface MonitoringStore {
  /** Stores results and adds them to the daily roll-up, in one transaction. */
  recordProbes(records: ProbeRecord[]): Promise<void>;
  /** Results at or after `since`, oldest first (at most `limit`, the newest kept). */
  recentProbes(options: { since: Date; component?: string; node?: string; limit?: number }): Promise<ProbeRecord[]>;
  /** The daily roll-up from `sinceDay` on. */
  probeDays(sinceDay: number): Promise<ProbeDay[]>;
  /** Deletes results older than `recordsBefore` and roll-up days before `daysBefore`. */
  pruneProbes(options: { recordsBefore: Date; daysBefore: number }): Promise<{ records: number; days: number }>;

  openIncident(incident: NewIncident): Promise<Incident>;
  /** Adds a timestamped update; stage `resolved` closes the incident. */
  updateIncident(id: number, change: IncidentChange): Promise<Incident>;
  getIncident(id: number): Promise<Incident | undefined>;
  /** Newest first. `open`: only those not resolved. */
  listIncidents(options?: { open?: boolean; since?: Date; limit?: number }): Promise<Incident[]>;

  scheduleMaintenance(window: NewMaintenance): Promise<Maintenance>;
  cancelMaintenance(id: number): Promise<Maintenance>;
  /** By start time. `endsAfter`: only windows not over by then. */
  listMaintenance(options?: { endsAfter?: Date; includeCancelled?: boolean; limit?: number }): Promise<Maintenance[]>;

  /** Records the component's current (aggregate) status; `since` moves only when it changes. */
  setAlertStatus(component: string, status: string, at: Date): Promise<AlertState>;
  /**
   * Marks the status as announced unless it already was, or the last announcement is
   * younger than `minIntervalMs`: true means the caller (one node of many) sends it.
   */
  claimAlertNotification(component: string, status: string, at: Date, minIntervalMs: number): Promise<boolean>;
  listAlertStates(): Promise<AlertState[]>;
}

const DAY_MS = 86_400_000;
export const dayOf = (at: Date): number => Math.floor(at.getTime() / DAY_MS);

const MAX_TEXT = 10_000;
const MAX_TITLE = 200;

function text(value: string, what: string, max: number): string {
  const v = value.trim();
  if (v.length === 0) throw new InvalidInput(`${what} must not be empty`);
  if (v.length > max) throw new InvalidInput(`${what} is longer than ${max} characters`);
  return v;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new InvalidInput(`${what} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function componentList(list: string[]): string[] {
  const out = [...new Set(list.map((c) => c.trim()).filter((c) => c.length > 0))];
  for (const c of out) if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(c)) throw new InvalidInput(`not a component id: ${JSON.stringify(c)}`);
  return out;
}

function issueList(list: KnownIssue[]): KnownIssue[] {
  return list.map((i) => ({ title: text(i.title, 'a known issue', MAX_TITLE), state: oneOf(i.state, INCIDENT_STAGES, 'a known issue state') }));
}

function toMaintenance(r: Selectable<MonitorMaintenanceTable>): Maintenance {
  return {
    id: Number(r.id),
    title: r.title,
    description: r.description,
    components: JSON.parse(r.components) as string[],
    startsAt: new Date(Number(r.starts_at)),
    endsAt: new Date(Number(r.ends_at)),
    cancelledAt: r.cancelled_at === null ? null : new Date(Number(r.cancelled_at)),
    createdAt: new Date(Number(r.created_at)),
  };
}

function toAlertState(r: Selectable<MonitorAlertStateTable>): AlertState {
  return {
    component: r.component,
    status: r.status,
    since: new Date(Number(r.since)),
    notifiedStatus: r.notified_status,
    notifiedAt: r.notified_at === null ? null : new Date(Number(r.notified_at)),
  };
}

async function loadIncidents(db: Tx, rows: Array<Selectable<MonitorIncidentsTable>>): Promise<Incident[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => Number(r.id));
  const updates = await db.selectFrom('monitor_incident_updates').selectAll().where('incident_id', 'in', ids).orderBy('at').orderBy('id').execute();
  const byIncident = new Map<number, IncidentUpdate[]>();
  for (const u of updates) {
    const list = byIncident.get(Number(u.incident_id)) ?? [];
    list.push({ id: Number(u.id), at: new Date(Number(u.at)), stage: u.stage as IncidentStage, body: u.body, author: u.author });
    byIncident.set(Number(u.incident_id), list);
  }
  return rows.map((r) => ({
    id: Number(r.id),
    title: r.title,
    impact: r.impact as IncidentImpact,
    components: JSON.parse(r.components) as string[],
    stage: r.stage as IncidentStage,
    issues: JSON.parse(r.issues) as KnownIssue[],
    automatic: Number(r.automatic) === 1,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
    resolvedAt: r.resolved_at === null ? null : new Date(Number(r.resolved_at)),
    updates: byIncident.get(Number(r.id)) ?? [],
  }));
}

async function getIncident(db: Tx, id: number): Promise<Incident | undefined> {
  const row = await db.selectFrom('monitor_incidents').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? (await loadIncidents(db, [row]))[0] : undefined;
}

export function createMonitoringStore(db: Kysely<Database>, writes: WriteBatcher): MonitoringStore {
  return {
    async recordProbes(records) {
      if (records.length === 0) return;
      await writes.run(async (tx) => {
        for (const r of records) {
          const ms = Math.max(0, Math.round(r.ms));
          await tx
            .insertInto('monitor_probes')
            .values({ node: r.node, component: r.component, at: r.at.getTime(), ok: r.ok ? 1 : 0, ms, steps: r.steps, failed_steps: JSON.stringify(r.failedSteps) })
            .execute();
          await tx
            .insertInto('monitor_probe_days')
            .values({ node: r.node, component: r.component, day: dayOf(r.at), runs: 1, failures: r.ok ? 0 : 1, total_ms: ms })
            .onConflict((oc) =>
              oc.columns(['node', 'component', 'day']).doUpdateSet((eb) => ({
                runs: eb('monitor_probe_days.runs', '+', 1),
                failures: eb('monitor_probe_days.failures', '+', r.ok ? 0 : 1),
                total_ms: eb('monitor_probe_days.total_ms', '+', ms),
              })),
            )
            .execute();
        }
      });
    },

    async recentProbes(options) {
      let q = db.selectFrom('monitor_probes').selectAll().where('at', '>=', options.since.getTime());
      if (options.component !== undefined) q = q.where('component', '=', options.component);
      if (options.node !== undefined) q = q.where('node', '=', options.node);
      const rows = await q
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(options.limit ?? 10_000)
        .execute();
      return rows.reverse().map((r) => ({
        node: r.node,
        component: r.component,
        at: new Date(Number(r.at)),
        ok: Number(r.ok) === 1,
        ms: Number(r.ms),
        steps: Number(r.steps),
        failedSteps: JSON.parse(r.failed_steps) as string[],
      }));
    },

    async probeDays(sinceDay) {
      const rows = await db.selectFrom('monitor_probe_days').selectAll().where('day', '>=', sinceDay).orderBy('day').execute();
      return rows.map((r) => ({ node: r.node, component: r.component, day: Number(r.day), runs: Number(r.runs), failures: Number(r.failures), totalMs: Number(r.total_ms) }));
    },

    pruneProbes(options) {
      return writes.run(async (tx) => {
        const records = await tx.deleteFrom('monitor_probes').where('at', '<', options.recordsBefore.getTime()).executeTakeFirst();
        const days = await tx.deleteFrom('monitor_probe_days').where('day', '<', options.daysBefore).executeTakeFirst();
        return { records: Number(records.numDeletedRows), days: Number(days.numDeletedRows) };
      });
    },

    async openIncident(incident) {
      const title = text(incident.title, 'the title', MAX_TITLE);
      const body = text(incident.body, 'the update', MAX_TEXT);
      const impact = oneOf(incident.impact, INCIDENT_IMPACTS, 'the impact');
      const stage = oneOf(incident.stage ?? 'investigating', INCIDENT_STAGES, 'the stage');
      const components = componentList(incident.components);
      const issues = issueList(incident.issues ?? []);
      const at = (incident.at ?? new Date()).getTime();
      const id = await writes.run(async (tx) => {
        const row = await tx
          .insertInto('monitor_incidents')
          .values({
            title,
            impact,
            components: JSON.stringify(components),
            stage,
            issues: JSON.stringify(issues),
            automatic: incident.automatic ? 1 : 0,
            created_at: at,
            updated_at: at,
            resolved_at: stage === 'resolved' ? at : null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx.insertInto('monitor_incident_updates').values({ incident_id: Number(row.id), at, stage, body, author: incident.author }).execute();
        return Number(row.id);
      });
      const created = await getIncident(db, id);
      if (!created) throw new NotFound(`incident ${id} vanished`);
      return created;
    },

    async updateIncident(id, change) {
      const body = text(change.body, 'the update', MAX_TEXT);
      const stage = change.stage === undefined ? undefined : oneOf(change.stage, INCIDENT_STAGES, 'the stage');
      const impact = change.impact === undefined ? undefined : oneOf(change.impact, INCIDENT_IMPACTS, 'the impact');
      const components = change.components === undefined ? undefined : componentList(change.components);
      const issues = change.issues === undefined ? undefined : issueList(change.issues);
      const at = (change.at ?? new Date()).getTime();
      await writes.run(async (tx) => {
        const row = await tx.selectFrom('monitor_incidents').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row) throw new NotFound(`no incident ${id}`);
        const nextStage = stage ?? (row.stage as IncidentStage);
        let merged = JSON.parse(row.issues) as KnownIssue[];
        for (const issue of issues ?? []) {
          const known = merged.find((i) => i.title === issue.title);
          if (known) known.state = issue.state;
          else merged.push(issue);
        }
        // Resolving the incident resolves what was still open in it.
        if (nextStage === 'resolved') merged = merged.map((i) => ({ ...i, state: 'resolved' }));
        await tx
          .updateTable('monitor_incidents')
          .set({
            stage: nextStage,
            issues: JSON.stringify(merged),
            updated_at: at,
            resolved_at: nextStage === 'resolved' ? (row.resolved_at ?? at) : null,
            ...(impact ? { impact } : {}),
            ...(components ? { components: JSON.stringify(components) } : {}),
          })
          .where('id', '=', id)
          .execute();
        await tx.insertInto('monitor_incident_updates').values({ incident_id: id, at, stage: nextStage, body, author: change.author }).execute();
      });
      const updated = await getIncident(db, id);
      if (!updated) throw new NotFound(`no incident ${id}`);
      return updated;
    },

    getIncident(id) {
      return getIncident(db, id);
    },

    async listIncidents(options = {}) {
      let q = db.selectFrom('monitor_incidents').selectAll();
      if (options.open) q = q.where('resolved_at', 'is', null);
      if (options.since) q = q.where('created_at', '>=', options.since.getTime());
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(options.limit ?? 100)
        .execute();
      return loadIncidents(db, rows);
    },

    async scheduleMaintenance(window) {
      const title = text(window.title, 'the title', MAX_TITLE);
      const description = (window.description ?? '').trim();
      if (description.length > MAX_TEXT) throw new InvalidInput(`the description is longer than ${MAX_TEXT} characters`);
      if (!(window.endsAt.getTime() > window.startsAt.getTime())) throw new InvalidInput('a maintenance window must end after it starts');
      const components = componentList(window.components);
      const row = await writes.run((tx) =>
        tx
          .insertInto('monitor_maintenance')
          .values({
            title,
            description,
            components: JSON.stringify(components),
            starts_at: window.startsAt.getTime(),
            ends_at: window.endsAt.getTime(),
            cancelled_at: null,
            created_at: Date.now(),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      return toMaintenance(row);
    },

    async cancelMaintenance(id) {
      const row = await writes.run(async (tx) => {
        const found = await tx.selectFrom('monitor_maintenance').selectAll().where('id', '=', id).executeTakeFirst();
        if (!found) throw new NotFound(`no maintenance window ${id}`);
        if (found.cancelled_at !== null) return found;
        return tx.updateTable('monitor_maintenance').set({ cancelled_at: Date.now() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      });
      return toMaintenance(row);
    },

    async listMaintenance(options = {}) {
      let q = db.selectFrom('monitor_maintenance').selectAll();
      if (options.endsAfter) q = q.where('ends_at', '>', options.endsAfter.getTime());
      if (!options.includeCancelled) q = q.where('cancelled_at', 'is', null);
      const rows = await q
        .orderBy('starts_at')
        .orderBy('id')
        .limit(options.limit ?? 100)
        .execute();
      return rows.map(toMaintenance);
    },

    setAlertStatus(component, status, at) {
      return writes.run(async (tx) => {
        const now = at.getTime();
        await tx
          .insertInto('monitor_alert_state')
          .values({ component, status, since: now, notified_status: null, notified_at: null })
          .onConflict((oc) => oc.column('component').doUpdateSet({ status, since: now }).where('monitor_alert_state.status', '<>', status))
          .execute();
        return toAlertState(await tx.selectFrom('monitor_alert_state').selectAll().where('component', '=', component).executeTakeFirstOrThrow());
      });
    },

    claimAlertNotification(component, status, at, minIntervalMs) {
      return writes.run(async (tx) => {
        const now = at.getTime();
        const res = await tx
          .updateTable('monitor_alert_state')
          .set({ notified_status: status, notified_at: now })
          .where('component', '=', component)
          .where('status', '=', status)
          .where((eb) => eb.or([eb('notified_status', 'is', null), eb('notified_status', '<>', status)]))
          .where((eb) => eb.or([eb('notified_at', 'is', null), eb('notified_at', '<=', now - minIntervalMs)]))
          .executeTakeFirst();
        return Number(res.numUpdatedRows) > 0;
      });
    },

    async listAlertStates() {
      return (await db.selectFrom('monitor_alert_state').selectAll().orderBy('component').execute()).map(toAlertState);
    },
  };
}
