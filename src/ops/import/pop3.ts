// Import from a POP3 server into one mailbox (INBOX by default). Mail stays on the
// source (no DELE). Messages are told apart by their UIDL; the journal records the
// UIDLs imported, so a re-run fetches only new ones, and a dropped connection is
// reconnected like the IMAP import does. POP3 knows no flags and no internal date:
// the date is taken from the newest Received: header, else Date:, else now.

import { Pop3Client, Pop3Error, type Pop3ClientOptions } from './pop3-client.js';
import type { ImportJournal } from './journal.js';
import type { ImportTarget } from './target.js';
import { ImportAuthError, SourceUnavailable, type ImportProgress } from './imap.js';

export interface Pop3Source extends Pop3ClientOptions {
  user: string;
  password: string;
  mailbox: string;
  retries: number;
  retryDelayMs: number;
}

/** The delivery time a message carries in its header. */
export function receivedDate(raw: Buffer): Date | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const header = raw
    .subarray(0, end === -1 ? Math.min(raw.length, 65536) : end)
    .toString('latin1')
    .replace(/\r?\n[ \t]+/g, ' ');
  const received = /^Received:[^\n]*;\s*([^\r\n]+)/im.exec(header)?.[1];
  const date = /^Date:\s*([^\r\n]+)/im.exec(header)?.[1];
  for (const text of [received, date]) {
    if (text === undefined) continue;
    const t = Date.parse(text.replace(/\s*\([^)]*\)\s*$/, '').trim());
    if (!Number.isNaN(t)) return new Date(t);
  }
  return undefined;
}

export async function importFromPop3(source: Pop3Source, target: ImportTarget, journal: ImportJournal, progress: ImportProgress): Promise<void> {
  const folder = await target.folder('POP3', source.mailbox);
  const done = new Set(journal.data.pop3);
  let failures = 0;
  let delay = source.retryDelayMs;
  for (;;) {
    const client = new Pop3Client(source);
    let progressed = false;
    try {
      await client.connect();
      try {
        await client.login(source.user, source.password);
      } catch (err) {
        if (err instanceof Pop3Error && err.refused) throw new ImportAuthError(`the POP3 server refused the login for ${source.user}: ${err.message}`);
        throw err;
      }
      const uidls = await client.uidl();
      const sizes = await client.list();
      const todo = [...uidls].filter(([, uidl]) => !done.has(uidl)).sort((a, b) => a[0] - b[0]);
      let n = 0;
      progress('POP3', n, todo.length);
      for (const [number, uidl] of todo) {
        const origin = `POP3 ${uidl}`;
        if ((sizes.get(number) ?? 0) > target.maxMessageBytes) target.tooLarge(folder, origin);
        else {
          const raw = await client.retr(number, target.maxMessageBytes);
          await target.add(folder, { raw, internalDate: receivedDate(raw), origin, flags: [] });
        }
        done.add(uidl);
        journal.data.pop3.push(uidl);
        progressed = true;
        if (++n % 50 === 0) await journal.save();
        progress('POP3', n, todo.length);
      }
      await journal.save();
      await client.quit();
      return;
    } catch (err) {
      client.close();
      if (progressed) await journal.save();
      if (err instanceof ImportAuthError || (err instanceof Pop3Error && err.refused)) throw err;
      if (progressed) {
        failures = 0;
        delay = source.retryDelayMs;
      }
      failures++;
      if (failures > source.retries) throw new SourceUnavailable(`the POP3 connection to ${source.host} failed ${failures} times in a row: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      target.summary.reconnects++;
      target.forget();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }
}
