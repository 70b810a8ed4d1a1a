// Hand-written SQL for the statements every delivery runs. Building and compiling a
// query through Kysely costs more CPU than SQLite takes to run it; these few
// statements skip the query builder. Written with `?` placeholders, numbered for
// PostgreSQL once per text. Everything else goes through the builder.

import { CompiledQuery } from 'kysely';
import type { Tx } from './write-batch.js';

const numbered = new Map<string, string>();

function forPostgres(text: string): string {
  let out = numbered.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    numbered.set(text, out);
  }
  return out;
}

export async function rawQuery<R>(tx: Tx, dialect: 'sqlite' | 'postgres', text: string, parameters: readonly unknown[]): Promise<R[]> {
  const result = await tx.executeQuery<R>(CompiledQuery.raw(dialect === 'postgres' ? forPostgres(text) : text, [...parameters]));
  return result.rows;
}
