// Monitoring: probe results per node, their daily roll-up (uptime), incidents with their
// timestamped updates, maintenance windows, and the alert state shared by every node.

import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrate.js';

export const migration0007: Migration = {
  version: 7,
  name: 'monitoring',
  async up(db: Kysely<unknown>, dialect) {
    const id = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    await sql`create table monitor_probes (
      id ${id},
      node text not null,
      component text not null,
      at bigint not null,
      ok integer not null,
      ms integer not null,
      steps integer not null,
      failed_steps text not null
    )`.execute(db);
    await sql`create index monitor_probes_component_at on monitor_probes(component, at)`.execute(db);
    await sql`create index monitor_probes_at on monitor_probes(at)`.execute(db);
    await sql`create table monitor_probe_days (
      node text not null,
      component text not null,
      day integer not null,
      runs integer not null,
      failures integer not null,
      total_ms bigint not null,
      primary key (node, component, day)
    )`.execute(db);
    await sql`create table monitor_incidents (
      id ${id},
      title text not null,
      impact text not null,
      components text not null,
      stage text not null,
      issues text not null,
      automatic integer not null,
      created_at bigint not null,
      updated_at bigint not null,
      resolved_at bigint
    )`.execute(db);
    await sql`create index monitor_incidents_created on monitor_incidents(created_at)`.execute(db);
    await sql`create table monitor_incident_updates (
      id ${id},
      incident_id bigint not null references monitor_incidents(id) on delete cascade,
      at bigint not null,
      stage text not null,
      body text not null,
      author text not null
    )`.execute(db);
    await sql`create index monitor_incident_updates_incident on monitor_incident_updates(incident_id, at)`.execute(db);
    await sql`create table monitor_maintenance (
      id ${id},
      title text not null,
      description text not null,
      components text not null,
      starts_at bigint not null,
      ends_at bigint not null,
      cancelled_at bigint,
      created_at bigint not null
    )`.execute(db);
    await sql`create index monitor_maintenance_ends on monitor_maintenance(ends_at)`.execute(db);
    await sql`create table monitor_alert_state (
      component text primary key,
      status text not null,
      since bigint not null,
      notified_status text,
      notified_at bigint
    )`.execute(db);
  },
};
