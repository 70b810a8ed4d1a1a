// Backup and restore of a PostgreSQL (farm mode) store with PostgreSQL's own tools.
//
// pg_dump reads the whole database in one REPEATABLE READ snapshot, so the dump is one
// committed state while every node keeps delivering; in farm mode the message bodies
// live in the same database (blobs, blob_chunks), so metadata and bodies are consistent
// with each other without any ordering trick. The custom format (-Fc) is compressed
// and restorable with pg_restore into an empty database, in one transaction, so a
// restore that fails leaves the database empty. The password never appears on a
// command line (it goes to the tools in PGPASSWORD).

import { spawn } from 'node:child_process';
import pg from 'pg';

export class PgToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgToolError';
  }
}

export interface PgTools {
  pgDump: string;
  pgRestore: string;
}

export const DEFAULT_PG_TOOLS: PgTools = { pgDump: 'pg_dump', pgRestore: 'pg_restore' };

/** The URL without its password, and the password for PGPASSWORD. */
function split(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (u.password !== '') {
    env['PGPASSWORD'] = decodeURIComponent(u.password);
    u.password = '';
  }
  return { dbname: u.toString(), env };
}

function run(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(new PgToolError(err.code === 'ENOENT' ? `${tool} is not installed (Debian: apt install postgresql-client; or name it with --pg-dump / --pg-restore)` : err.message)),
    );
    child.on('close', (code) => (code === 0 ? resolve() : reject(new PgToolError(`${tool} failed (exit ${code}): ${stderr.trim()}`))));
  });
}

/** An online, consistent dump of the whole store (metadata and bodies) to `file`. */
export async function pgDump(url: string, file: string, tools: PgTools = DEFAULT_PG_TOOLS): Promise<void> {
  const { dbname, env } = split(url);
  await run(tools.pgDump, ['--format=custom', '--no-owner', '--no-privileges', '--file', file, '--dbname', dbname], env);
}

/** Whether the database has no tables of its own (a restore goes only there). */
export async function isEmptyDatabase(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query("select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')");
    return (r.rows[0] as { n: number }).n === 0;
  } finally {
    await client.end();
  }
}

/** Restores a dump into an empty database, all or nothing. */
export async function pgRestore(url: string, file: string, tools: PgTools = DEFAULT_PG_TOOLS): Promise<void> {
  if (!(await isEmptyDatabase(url))) throw new PgToolError('the configured PostgreSQL database is not empty; restore only into an empty database (createdb a new one)');
  const { dbname, env } = split(url);
  await run(tools.pgRestore, ['--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', '--dbname', dbname, file], env);
}
