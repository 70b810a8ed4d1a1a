// Import from a live IMAP server with imapflow: every selectable folder (EXAMINE,
// read-only: nothing changes on the source), flags, keywords and internal dates.
//
// Per folder, the source's UIDs are listed with their sizes, then fetched in UID order
// in batches; after each batch the journal records (UIDVALIDITY, highest UID done), so a
// re-run or a reconnect fetches only what is new. When the connection drops, the
// import reconnects (with a growing pause) and goes on where the journal says; it gives
// up after `retries` failures in a row without progress. A changed UIDVALIDITY makes
// the folder be read from the start; the target's duplicate check keeps that from
// duplicating anything.

import { ImapFlow, type ListResponse } from 'imapflow';
import type { ImportJournal } from './journal.js';
import type { ImportTarget } from './target.js';

export interface ImapSource {
  host: string;
  port: number;
  /** 'tls': implicit TLS; 'starttls': STARTTLS required; 'plain': no TLS. */
  security: 'tls' | 'starttls' | 'plain';
  user: string;
  password: string;
  /** Verify the server's certificate (default true). */
  verifyCertificate: boolean;
  /** Only these source folders (default: all). */
  folders?: string[];
  /** Consecutive failed connections before giving up. */
  retries: number;
  /** First pause before reconnecting; doubles up to 30 s. */
  retryDelayMs: number;
  /** Batch limits for one FETCH of bodies. */
  batchMessages: number;
  batchBytes: number;
  timeoutMs: number;
}

export class ImportAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportAuthError';
  }
}

/** The source stayed unreachable through every reconnection attempt. */
export class SourceUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SourceUnavailable';
  }
}

export interface ImportProgress {
  (phase: string, done: number, total: number): void;
}

function targetName(entry: ListResponse): string {
  if (entry.path.toUpperCase() === 'INBOX') return 'INBOX';
  const parts = entry.delimiter ? entry.path.split(entry.delimiter) : [entry.path];
  return parts.map((p) => (p === '' ? '_' : p.replace(/\//g, '_'))).join('/');
}

function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string; authenticationFailed?: boolean; responseStatus?: string };
  if (e.authenticationFailed === true) return false;
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') return false;
  return true;
}

export async function importFromImap(source: ImapSource, target: ImportTarget, journal: ImportJournal, progress: ImportProgress): Promise<void> {
  let failures = 0;
  let delay = source.retryDelayMs;
  for (;;) {
    const before = target.summary.imported + target.summary.duplicates + target.summary.tooLarge;
    try {
      await session(source, target, journal, progress);
      return;
    } catch (err) {
      if (err instanceof ImportAuthError || !isConnectionError(err)) throw err;
      const after = target.summary.imported + target.summary.duplicates + target.summary.tooLarge;
      if (after > before) {
        failures = 0;
        delay = source.retryDelayMs;
      }
      failures++;
      if (failures > source.retries) throw new SourceUnavailable(`the IMAP connection to ${source.host} failed ${failures} times in a row: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      target.summary.reconnects++;
      target.forget();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

/** One connection: goes through every folder, skipping what the journal has. */
async function session(source: ImapSource, target: ImportTarget, journal: ImportJournal, progress: ImportProgress): Promise<void> {
  const client = new ImapFlow({
    host: source.host,
    port: source.port,
    secure: source.security === 'tls',
    doSTARTTLS: source.security === 'starttls' ? true : source.security === 'plain' ? false : undefined,
    auth: { user: source.user, pass: source.password },
    tls: { rejectUnauthorized: source.verifyCertificate },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: source.timeoutMs,
    socketTimeout: source.timeoutMs,
  });
  // A dropped connection is reported here as well as to the pending command.
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  try {
    try {
      await client.connect();
    } catch (err) {
      const e = err as { authenticationFailed?: boolean; message?: string };
      if (e.authenticationFailed === true) throw new ImportAuthError(`the IMAP server refused the login for ${source.user}`);
      throw err;
    }
    const wanted = source.folders && new Set(source.folders);
    const folders = (await client.list()).filter(
      (f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent') && (!wanted || wanted.has(f.path)),
    );
    folders.sort((a, b) => (a.path === 'INBOX' ? -1 : b.path === 'INBOX' ? 1 : a.path.localeCompare(b.path)));
    for (const entry of folders) await importFolder(client, entry, target, journal, progress, source);
  } catch (err) {
    throw lastError instanceof Error && !(err instanceof ImportAuthError) && isConnectionError(err) ? lastError : err;
  } finally {
    client.close();
  }
}

class ConnectionLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionLost';
  }
}

function assertUsable(client: ImapFlow): void {
  if (!client.usable) throw new ConnectionLost('the connection to the IMAP server was lost');
}

async function importFolder(client: ImapFlow, entry: ListResponse, target: ImportTarget, journal: ImportJournal, progress: ImportProgress, source: ImapSource): Promise<void> {
  // Only a special use the server declares (RFC 6154) maps a folder onto ours; a guess
  // from the folder's name could merge two folders the user keeps apart.
  const declared = entry.specialUseSource === 'extension' ? entry.specialUse : undefined;
  const folder = await target.folder(entry.path, targetName(entry), declared);
  const lock = await client.getMailboxLock(entry.path, { readOnly: true });
  try {
    const mailbox = client.mailbox;
    if (mailbox === false) throw new Error(`cannot open ${entry.path}`);
    const uidValidity = String(mailbox.uidValidity);
    let state = journal.data.imap[entry.path];
    if (state?.uidValidity !== uidValidity) {
      state = { uidValidity, lastUid: 0 };
      journal.data.imap[entry.path] = state;
    }
    if (mailbox.exists === 0) return;
    // Sizes first (small), so bodies can be fetched in bounded batches.
    const pending: Array<{ uid: number; size: number }> = [];
    for await (const m of client.fetch(`${state.lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
      if (m.uid > state.lastUid) pending.push({ uid: m.uid, size: m.size ?? 0 });
    }
    assertUsable(client);
    pending.sort((a, b) => a.uid - b.uid);
    let done = 0;
    progress(entry.path, done, pending.length);
    while (pending.length > 0) {
      const batch: typeof pending = [];
      let bytes = 0;
      while (pending.length > 0 && batch.length < source.batchMessages && (batch.length === 0 || bytes + pending[0]!.size <= source.batchBytes)) {
        const next = pending.shift()!;
        bytes += next.size;
        batch.push(next);
      }
      const fetchable = batch.filter((m) => m.size <= target.maxMessageBytes);
      for (const m of batch) if (m.size > target.maxMessageBytes) target.tooLarge(folder, `${entry.path} uid ${m.uid}`);
      const fetched = new Map<number, { raw: Buffer; flags: Set<string>; date: Date | undefined }>();
      if (fetchable.length > 0) {
        for await (const m of client.fetch(fetchable.map((f) => f.uid).join(','), { uid: true, flags: true, internalDate: true, source: true }, { uid: true })) {
          if (!m.source) continue;
          const date = m.internalDate === undefined ? undefined : new Date(m.internalDate);
          fetched.set(m.uid, { raw: m.source, flags: m.flags ?? new Set(), date });
        }
      }
      // A FETCH cut short by a lost connection ends quietly: what is missing then was
      // not expunged, and must not be recorded as done.
      assertUsable(client);
      for (const m of fetchable) {
        const got = fetched.get(m.uid);
        // Expunged on the source meanwhile: nothing to import.
        if (!got) continue;
        await target.add(folder, { raw: got.raw, flags: got.flags, internalDate: got.date, origin: `${entry.path} uid ${m.uid}` });
      }
      state.lastUid = batch[batch.length - 1]!.uid;
      await journal.save();
      done += batch.length;
      progress(entry.path, done, done + pending.length);
    }
  } finally {
    lock.release();
  }
}
