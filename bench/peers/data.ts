// The identical mail both sides serve: MESSAGES deterministic messages (seeded sizes
// 2–60 KiB: a short text part and a base64 attachment), the same bytes in every
// user's INBOX. Dovecot gets them as Maildir files (hard links of one copy per
// message, as a multi-recipient delivery would leave them); Steadymail gets them
// through its store (one blob per message shared by every user, its own
// single-instance storage), with the structure and search text a delivery computes.

import { linkSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { indexMessage, searchTextExtractor, toStoredStructure } from '../../src/mime/index.js';
import { openStore } from '../../src/store/open.js';
import type { NewMessage } from '../../src/store/types.js';

export const DOMAIN = 'bench.test';
export const PASSWORD = 'bench-secret';
export const RECIPIENT = `rcpt@${DOMAIN}`;

/** A seeded generator (LCG), so every run builds the same bytes. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function base64Lines(rnd: () => number, bytes: number): string {
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) buf[i] = Math.floor(rnd() * 256);
  return buf.toString('base64').replace(/.{76}/g, '$&\r\n');
}

const WORDS = ['report', 'meeting', 'invoice', 'holiday', 'project', 'budget', 'review', 'lunch', 'status', 'draft', 'travel', 'contract'];

/** Message i (0-based) of every maildrop: 2–60 KiB, CRLF line ends. */
export function message(i: number): Buffer {
  const rnd = seeded(1000 + i);
  const size = 2048 + Math.floor(rnd() * 58 * 1024);
  const word = WORDS[i % WORDS.length]!;
  const text = Array.from({ length: 12 }, (_, l) => `Line ${l} about the ${word} of week ${i % 52}: the quick brown fox jumps over the lazy dog.`).join('\r\n');
  const head =
    `From: Sender ${i % 97} <sender${i % 97}@example.org>\r\nTo: <user@${DOMAIN}>\r\nSubject: ${word} number ${i}\r\n` +
    `Date: Mon, 2 Nov 2026 ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 +0000\r\nMessage-ID: <m${i}@example.org>\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n--b${i}\r\n` +
    `Content-Type: application/octet-stream; name="file${i}.bin"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="file${i}.bin"\r\n\r\n`;
  const tail = `\r\n--b${i}--\r\n`;
  const room = Math.max(76, size - head.length - tail.length);
  return Buffer.from(head + base64Lines(rnd, Math.floor((room * 3) / 4 / 1.03)) + tail);
}

export function users(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user${i}@${DOMAIN}`);
}

/**
 * Writes the messages into every user's Maildir under `home` (Dovecot's
 * home=<home>/%u). File names carry S= and W= (the sizes Dovecot's own delivery
 * records) so that neither side has to read a message to learn its size.
 */
export function writeMaildirs(home: string, addresses: string[], messages: Buffer[]): void {
  const store = join(home, '.originals');
  mkdirSync(store, { recursive: true });
  const names = messages.map((raw, i) => {
    const name = `${1_700_000_000 + i}.M${i}P1.bench,S=${raw.length},W=${raw.length}:2,`;
    writeFileSync(join(store, name), raw);
    return name;
  });
  for (const a of addresses) {
    const cur = join(home, a, 'Maildir', 'cur');
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(home, a, 'Maildir', d), { recursive: true });
    names.forEach((name) => linkSync(join(store, name), join(cur, name)));
  }
  chmodSync(home, 0o755);
}

/** Creates the domain and accounts (and the SMTP recipient) in a Steadymail data directory and fills each INBOX. */
export async function loadSteadymail(dataDir: string, addresses: string[], messages: Buffer[]): Promise<void> {
  const store = await openStore({ driver: 'sqlite', dataDir, searchText: searchTextExtractor });
  try {
    await store.createDomain(DOMAIN);
    const passwordHash = await hash(PASSWORD);
    const prepared: NewMessage[] = [];
    for (const [i, raw] of messages.entries()) {
      const blob = await store.blobs.put(raw);
      prepared.push({ blobId: blob.id, size: blob.size, internalDate: new Date(Date.UTC(2026, 10, 2, 0, 0, i)), structure: toStoredStructure(indexMessage(raw)) });
    }
    await store.createAccount({ address: RECIPIENT, passwordHash });
    for (const address of addresses) {
      const account = await store.createAccount({ address, passwordHash });
      const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
      for (let i = 0; i < prepared.length; i += 200) await store.appendMessages(inbox.id, prepared.slice(i, i + 200));
    }
  } finally {
    await store.close();
  }
}
