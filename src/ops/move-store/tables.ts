// What move-store does with each table of the schema. The list of tables itself comes
// from the database catalog, so a table added by a new migration is copied like the
// others as soon as it is named here; a table named nowhere stops move-store before
// it copies anything (and the test in test/ops/move-store.test.ts fails first).
//
//   copy     every row, with its ids, as it is
//   blobs    message bodies: copied through the blob stores (PostgreSQL keeps them in
//            tables, SQLite installations small ones in a table and the others in
//            <data_dir>/blobs/)
//   derived  rebuilt on the target from the copied rows (the search index)
//   schema   written by the target's own migrations

export type TableRole = 'copy' | 'blobs' | 'derived' | 'schema';

export const TABLE_ROLES: Readonly<Record<string, TableRole>> = {
  domains: 'copy',
  accounts: 'copy',
  aliases: 'copy',
  mailboxes: 'copy',
  messages: 'copy',
  tombstones: 'copy',
  audit_log: 'copy',
  leases: 'copy',
  queue: 'copy',
  filter_greylist: 'copy',
  filter_accounts: 'copy',
  filter_lists: 'copy',
  filter_senders: 'copy',
  auth_failures: 'copy',
  sieve_scripts: 'copy',
  sieve_replies: 'copy',
  monitor_probes: 'copy',
  monitor_probe_days: 'copy',
  monitor_incidents: 'copy',
  monitor_incident_updates: 'copy',
  monitor_maintenance: 'copy',
  monitor_alert_state: 'copy',
  tls_certificates: 'copy',
  acme_accounts: 'copy',
  acme_challenges: 'copy',
  webmail_sessions: 'copy',
  webmail_settings: 'copy',
  webmail_recipients: 'copy',
  webmail_uploads: 'copy',
  metadata: 'copy',
  session_history: 'copy',
  // Rows of processes that ran on the source; the first server on the target prunes them.
  live_sessions: 'copy',
  trace_switches: 'copy',
  trace_lines: 'copy',
  admin_accounts: 'copy',
  admin_tokens: 'copy',
  admin_sessions: 'copy',
  traffic_hourly: 'copy',
  mta_sts_policies: 'copy',
  blobs: 'blobs',
  blob_chunks: 'blobs',
  inline_blobs: 'blobs',
  search_docs: 'derived',
  // SQLite's FTS5 table and the shadow tables it keeps.
  search_fts: 'derived',
  search_fts_data: 'derived',
  search_fts_idx: 'derived',
  search_fts_content: 'derived',
  search_fts_docsize: 'derived',
  search_fts_config: 'derived',
  schema_version: 'schema',
};

export class MoveStoreError extends Error {
  constructor(
    readonly kind: 'in-use' | 'not-empty' | 'schema' | 'verify' | 'target',
    message: string,
  ) {
    super(message);
    this.name = 'MoveStoreError';
  }
}

/** Tables the catalog shows that are named nowhere above. */
export function unknownTables(tables: Iterable<string>): string[] {
  return [...tables].filter((t) => !(t in TABLE_ROLES)).sort();
}

/** Parents before children, by foreign keys (ties in name order). */
export function copyOrder(tables: string[], parents: ReadonlyMap<string, string[]>): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: string): void => {
    if (state.get(t) === 'done') return;
    if (state.get(t) === 'visiting') throw new MoveStoreError('schema', `foreign keys form a cycle through ${t}`);
    state.set(t, 'visiting');
    for (const p of parents.get(t) ?? []) if (p !== t && tables.includes(p)) visit(p);
    state.set(t, 'done');
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return out;
}
