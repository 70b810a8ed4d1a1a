// steadymail incident open|update|resolve|list|show and steadymail maintenance
// schedule|list|cancel: what the public status page says about incidents and planned
// work. They write to the store, so every node's /status shows them at once.
import { userInfo } from 'node:os';
import { Command } from 'commander';
import {
  INCIDENT_IMPACTS,
  INCIDENT_STAGES,
  type Incident,
  type IncidentImpact,
  type IncidentStage,
  type KnownIssue,
  type Maintenance,
} from '../store/sql/monitoring.js';
import type { Config } from '../config/index.js';
import { notifySubscribers } from '../monitor/notify.js';
import type { Store } from '../store/store.js';
import { CliError, EXIT, command, io, withStore, type ConfigOption } from './context.js';

function author(): string {
  return `cli:${userInfo().username}`;
}

function positiveId(text: string, what: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id <= 0) throw new CliError(EXIT.usage, `not ${what} id: ${text}`);
  return id;
}

function stageOf(text: string | undefined): IncidentStage | undefined {
  if (text === undefined) return undefined;
  if (!(INCIDENT_STAGES as readonly string[]).includes(text)) throw new CliError(EXIT.usage, `unknown stage ${text} (${INCIDENT_STAGES.join(', ')})`);
  return text as IncidentStage;
}

function impactOf(text: string | undefined): IncidentImpact | undefined {
  if (text === undefined) return undefined;
  if (!(INCIDENT_IMPACTS as readonly string[]).includes(text)) throw new CliError(EXIT.usage, `unknown impact ${text} (${INCIDENT_IMPACTS.join(', ')})`);
  return text as IncidentImpact;
}

/** `--issue "POP3 errors in Outlook=resolved"` (state defaults to investigating). */
function issueOf(text: string): KnownIssue {
  const at = text.lastIndexOf('=');
  const state = at < 0 ? 'investigating' : text.slice(at + 1).trim();
  const title = (at < 0 ? text : text.slice(0, at)).trim();
  return { title, state: stageOf(state) ?? 'investigating' };
}

function dateOf(text: string, what: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new CliError(EXIT.usage, `${what}: not a date and time: ${text} (use ISO 8601, e.g. 2026-12-01T22:00:00Z)`);
  return d;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
const collectRaw = (value: string, previous: string[] = []): string[] => [...previous, value];

function incidentLine(i: Incident): string {
  return [i.id, i.stage, i.impact, i.components.join(',') || '-', i.createdAt.toISOString(), i.updatedAt.toISOString(), i.title].join('\t');
}

function maintenanceLine(m: Maintenance): string {
  return [m.id, m.cancelledAt ? 'cancelled' : 'scheduled', m.startsAt.toISOString(), m.endsAt.toISOString(), m.components.join(',') || 'all', m.title].join('\t');
}

function describe(i: Incident): string[] {
  return [
    `incident ${i.id}: ${i.title}`,
    `stage: ${i.stage}, impact: ${i.impact}, components: ${i.components.join(', ') || '-'}${i.automatic ? ' (opened by the monitor)' : ''}`,
    ...i.issues.map((x) => `known issue: ${x.title} — ${x.state}`),
    ...i.updates.map((u) => `${u.at.toISOString()} ${u.stage} (${u.author}): ${u.body}`),
  ];
}

/** Tells the subscribers ([monitor] subscribers) unless --no-notify. */
async function tell(store: Store, config: Config, incident: Incident, options: { notify?: boolean }): Promise<void> {
  if (options.notify === false) return;
  const n = await notifySubscribers(store, config.hostname, config.monitor.subscribers, incident);
  if (n > 0) io().out(`queued a notice to ${n} subscriber(s)`);
}

interface UpdateOptions extends ConfigOption {
  notify?: boolean;
  message?: string;
  stage?: string;
  impact?: string;
  component?: string[];
  issue?: string[];
}

export function incidentCommand(): Command {
  const incident = new Command('incident').description('incidents on the public status page (/status)');

  incident.addCommand(
    command('open', 'open an incident (stage investigating unless --stage)')
      .alias('create')
      .argument('<title>', 'what customers see, e.g. "POP3 logins fail"')
      .requiredOption('-m, --message <text>', 'the first update')
      .option('--impact <impact>', `${INCIDENT_IMPACTS.join(', ')}`, 'minor')
      .option('--component <id>', 'affected component (smtp, submission, pop3, imap, http, delivery, store); repeatable or comma-separated', collect)
      .option('--stage <stage>', INCIDENT_STAGES.join(', '))
      .option('--issue <title=state>', 'a known issue with its own state; repeatable', collectRaw)
      .option('--no-notify', 'do not email the subscribers ([monitor] subscribers)')
      .action(async (title: string, options: UpdateOptions) => {
        await withStore(options, async (store, config) => {
          const created = await store.monitoring.openIncident({
            title,
            impact: impactOf(options.impact) ?? 'minor',
            components: options.component ?? [],
            body: options.message ?? '',
            author: author(),
            ...(options.stage !== undefined ? { stage: stageOf(options.stage) } : {}),
            issues: (options.issue ?? []).map(issueOf),
          });
          io().out(`opened incident ${created.id}`);
          await tell(store, config, created, options);
        });
      }),
  );

  incident.addCommand(
    command('update', 'post a timestamped update (and change the stage, impact, components or known issues)')
      .argument('<id>', 'incident id')
      .requiredOption('-m, --message <text>', 'the update')
      .option('--stage <stage>', INCIDENT_STAGES.join(', '))
      .option('--impact <impact>', INCIDENT_IMPACTS.join(', '))
      .option('--component <id>', 'replaces the affected components; repeatable or comma-separated', collect)
      .option('--issue <title=state>', 'adds a known issue or sets its state; repeatable', collectRaw)
      .option('--no-notify', 'do not email the subscribers ([monitor] subscribers)')
      .action(async (id: string, options: UpdateOptions) => {
        const stage = stageOf(options.stage);
        const impact = impactOf(options.impact);
        await withStore(options, async (store, config) => {
          const updated = await store.monitoring.updateIncident(positiveId(id, 'an incident'), {
            body: options.message ?? '',
            author: author(),
            ...(stage ? { stage } : {}),
            ...(impact ? { impact } : {}),
            ...(options.component ? { components: options.component } : {}),
            ...(options.issue ? { issues: options.issue.map(issueOf) } : {}),
          });
          io().out(`incident ${updated.id} is ${updated.stage}`);
          await tell(store, config, updated, options);
        });
      }),
  );

  incident.addCommand(
    command('resolve', 'resolve an incident (and every known issue in it)')
      .argument('<id>', 'incident id')
      .option('-m, --message <text>', 'the closing update', 'This incident has been resolved.')
      .option('--no-notify', 'do not email the subscribers ([monitor] subscribers)')
      .action(async (id: string, options: UpdateOptions) => {
        await withStore(options, async (store, config) => {
          const updated = await store.monitoring.updateIncident(positiveId(id, 'an incident'), { body: options.message ?? '', author: author(), stage: 'resolved' });
          io().out(`incident ${updated.id} is resolved`);
          await tell(store, config, updated, options);
        });
      }),
  );

  incident.addCommand(
    command('list', 'list incidents, newest first (id, stage, impact, components, opened, last update, title)')
      .option('--open', 'only those not resolved')
      .option('--json', 'as JSON, with every update')
      .action(async (options: ConfigOption & { open?: boolean; json?: boolean }) => {
        const list = await withStore(options, (store) => store.monitoring.listIncidents(options.open ? { open: true } : {}));
        if (options.json) io().out(JSON.stringify(list, null, 2));
        else for (const i of list) io().out(incidentLine(i));
      }),
  );

  incident.addCommand(
    command('show', 'show an incident with its updates')
      .argument('<id>', 'incident id')
      .action(async (id: string, options: ConfigOption) => {
        const found = await withStore(options, (store) => store.monitoring.getIncident(positiveId(id, 'an incident')));
        if (!found) throw new CliError(EXIT.noUser, `no incident ${id}`);
        for (const line of describe(found)) io().out(line);
      }),
  );
  return incident;
}

export function maintenanceCommand(): Command {
  const maintenance = new Command('maintenance').description('scheduled maintenance on the public status page (/status)');

  maintenance.addCommand(
    command('schedule', 'announce a maintenance window; its components show "under maintenance" while it runs')
      .argument('<title>', 'what customers see')
      .requiredOption('--start <time>', 'start, ISO 8601 (2026-12-01T22:00:00Z)')
      .requiredOption('--end <time>', 'end, ISO 8601')
      .option('--component <id>', 'affected component; repeatable or comma-separated; none: all', collect)
      .option('-m, --message <text>', 'description')
      .action(async (title: string, options: ConfigOption & { start: string; end: string; component?: string[]; message?: string }) => {
        const startsAt = dateOf(options.start, '--start');
        const endsAt = dateOf(options.end, '--end');
        const window = await withStore(options, (store) =>
          store.monitoring.scheduleMaintenance({ title, components: options.component ?? [], startsAt, endsAt, ...(options.message ? { description: options.message } : {}) }),
        );
        io().out(`scheduled maintenance ${window.id}: ${window.startsAt.toISOString()} – ${window.endsAt.toISOString()}`);
      }),
  );

  maintenance.addCommand(
    command('list', 'list maintenance windows not over yet (id, state, start, end, components, title)')
      .option('--all', 'also past and cancelled ones')
      .action(async (options: ConfigOption & { all?: boolean }) => {
        const list = await withStore(options, (store) => store.monitoring.listMaintenance(options.all ? { includeCancelled: true } : { endsAfter: new Date() }));
        for (const m of list) io().out(maintenanceLine(m));
      }),
  );

  maintenance.addCommand(
    command('cancel', 'cancel a maintenance window')
      .argument('<id>', 'maintenance id')
      .action(async (id: string, options: ConfigOption) => {
        const window = await withStore(options, (store) => store.monitoring.cancelMaintenance(positiveId(id, 'a maintenance')));
        io().out(`cancelled maintenance ${window.id}`);
      }),
  );
  return maintenance;
}
