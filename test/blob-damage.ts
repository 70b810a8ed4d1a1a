// Damages a message body of an SQLite store the way a disk or an operator could, wherever
// the body lives: a row of `inline_blobs` (small bodies) or a file under blobs/. Works
// while a server has the store open (a second connection, WAL).

import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

function blobFile(dataDir: string, id: string): string {
  return join(dataDir, 'blobs', id.slice(0, 2), id);
}

/** Removes the body; true if it was found (in the database or as a file). */
export async function loseBlob(dataDir: string, id: string): Promise<boolean> {
  const db = new BetterSqlite3(join(dataDir, 'steadymail.db'), { timeout: 15_000 });
  let found: boolean;
  try {
    found = db.prepare('delete from inline_blobs where id = ?').run(id).changes > 0;
  } finally {
    db.close();
  }
  try {
    await unlink(blobFile(dataDir, id));
    found = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return found;
}

/** Flips one bit of the body's third-last byte (size unchanged, hash wrong). */
export async function corruptBlob(dataDir: string, id: string): Promise<void> {
  const flip = (bytes: Buffer) => bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0x20, bytes.length - 3);
  const db = new BetterSqlite3(join(dataDir, 'steadymail.db'), { timeout: 15_000 });
  try {
    const row = db.prepare('select data from inline_blobs where id = ?').get(id) as { data: Buffer } | undefined;
    if (row) {
      flip(row.data);
      db.prepare('update inline_blobs set data = ? where id = ?').run(row.data, id);
      return;
    }
  } finally {
    db.close();
  }
  const bytes = await readFile(blobFile(dataDir, id));
  flip(bytes);
  await writeFile(blobFile(dataDir, id), bytes);
}
