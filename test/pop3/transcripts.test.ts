// Transcripts: the command sequences real clients send, replayed over a real
// socket, every reply checked byte for byte.
//
// The sequences follow what these clients are known to send (client logs,
// their documentation and, for Thunderbird, nsPop3Protocol: AUTH, then CAPA,
// then the best SASL mechanism). They are replays, not captures: the point is
// that each probe and each order of commands gets a reply the client accepts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pop3TestClient } from './client.js';
import { harness, PASSWORD, testCertificate, USER, type Harness } from './harness.js';

// A well-formed message, one with bare LFs, a NUL and dot lines, and one with no body at all.
const M1 = 'From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: Lunch\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\nNoon?\r\n-- \r\nBob\r\n';
const M2 = 'From: shop@example.net\nSubject: Receipt\n\n.\n..total\nnul:\0:end\n';
const M3 = 'Subject: headers only';
const W1 = M1;
const W2 = 'From: shop@example.net\r\nSubject: Receipt\r\n\r\n..\r\n...total\r\nnul:\x80:end\r\n';
const W3 = 'Subject: headers only\r\n\r\n';
const S1 = W1.length;
const S2 = W2.length;
const S3 = W3.length;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

const GREETING = '+OK pop.example.org Steadymail POP3 server ready\r\n';
const CAPA_PLAIN =
  '+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\nSASL PLAIN LOGIN\r\nIMPLEMENTATION Steadymail\r\n.\r\n';
const RETR1 = `+OK ${S1} octets\r\n${W1}.\r\n`;
const RETR2 = `+OK ${S2} octets\r\n${W2}.\r\n`;
const RETR3 = `+OK ${S3} octets\r\n${W3}.\r\n`;

type Step = [client: string, server: string];

async function replay(h: Harness, steps: Step[], options: { tls?: boolean; port?: number } = {}): Promise<void> {
  const c = await Pop3TestClient.connect(options.port ?? h.port, { tls: options.tls ?? false });
  try {
    assert.equal(await c.greeting(), GREETING);
    for (const [client, server] of steps) assert.equal(await c.command(client), server, `reply to ${JSON.stringify(client)}`);
    await c.closed();
  } finally {
    c.destroy();
  }
}

async function mailbox(): Promise<{ h: Harness; ids: string[] }> {
  const h = await harness();
  const ids = [(await h.deliver(M1)).messageId, (await h.deliver(M2)).messageId, (await h.deliver(M3)).messageId];
  return { h, ids };
}

const list = (entries: Array<[number, number]>): string =>
  `+OK ${entries.length} messages (${entries.reduce((s, [, n]) => s + n, 0)} octets)\r\n${entries.map(([i, n]) => `${i} ${n}\r\n`).join('')}.\r\n`;
const uidl = (entries: Array<[number, string]>): string => `+OK Unique-id listing follows\r\n${entries.map(([i, u]) => `${i} ${u}\r\n`).join('')}.\r\n`;

test('Outlook 2003 / Outlook Express: bare AUTH probe, USER/PASS, STAT, LIST, UIDL, RETR+DELE each, QUIT', async () => {
  const { h, ids } = await mailbox();
  try {
    await replay(h, [
      ['AUTH', '+OK Supported authentication mechanisms\r\nPLAIN\r\nLOGIN\r\n.\r\n'],
      [`USER ${USER}`, '+OK Send your password\r\n'],
      [`PASS ${PASSWORD}`, '+OK Logged in, 3 messages\r\n'],
      ['STAT', `+OK 3 ${S1 + S2 + S3}\r\n`],
      ['LIST', list([[1, S1], [2, S2], [3, S3]])],
      ['UIDL', uidl([[1, ids[0]!], [2, ids[1]!], [3, ids[2]!]])],
      ['RETR 1', RETR1],
      ['DELE 1', '+OK Message 1 marked for deletion\r\n'],
      ['RETR 2', RETR2],
      ['DELE 2', '+OK Message 2 marked for deletion\r\n'],
      ['RETR 3', RETR3],
      ['DELE 3', '+OK Message 3 marked for deletion\r\n'],
      ['QUIT', '+OK Signing off, 3 deleted, 0 left\r\n'],
    ]);
    assert.deepEqual(await h.store.listMessages(h.inboxId), []);
  } finally {
    await h.close();
  }
});

test('Outlook 2007: CAPA, USER/PASS, STAT, LIST, UIDL, RETR all, leave on server', async () => {
  const { h, ids } = await mailbox();
  try {
    await replay(h, [
      ['CAPA', CAPA_PLAIN],
      [`USER ${USER}`, '+OK Send your password\r\n'],
      [`PASS ${PASSWORD}`, '+OK Logged in, 3 messages\r\n'],
      ['STAT', `+OK 3 ${S1 + S2 + S3}\r\n`],
      ['LIST', list([[1, S1], [2, S2], [3, S3]])],
      ['UIDL', uidl([[1, ids[0]!], [2, ids[1]!], [3, ids[2]!]])],
      ['RETR 1', RETR1],
      ['RETR 2', RETR2],
      ['RETR 3', RETR3],
      ['QUIT', '+OK Signing off, 0 deleted, 3 left\r\n'],
    ]);
    const msgs = await h.store.listMessages(h.inboxId);
    assert.deepEqual(msgs.map((m) => m.flags), [['\\Seen'], ['\\Seen'], ['\\Seen']], 'IMAP and webmail see them read');
  } finally {
    await h.close();
  }
});

test('Outlook 2016 over POP3S: CAPA, USER/PASS, STAT, LIST, UIDL, RETR, per-message LIST, QUIT', async () => {
  const { h, ids } = await mailbox();
  try {
    const { port } = await h.startServer({ tls: await testCertificate(), implicitTls: true, allowPlaintext: () => false });
    await replay(
      h,
      [
        ['CAPA', CAPA_PLAIN],
        [`USER ${USER}`, '+OK Send your password\r\n'],
        [`PASS ${PASSWORD}`, '+OK Logged in, 3 messages\r\n'],
        ['STAT', `+OK 3 ${S1 + S2 + S3}\r\n`],
        ['LIST', list([[1, S1], [2, S2], [3, S3]])],
        ['UIDL', uidl([[1, ids[0]!], [2, ids[1]!], [3, ids[2]!]])],
        ['LIST 2', `+OK 2 ${S2}\r\n`],
        ['RETR 2', RETR2],
        ['QUIT', '+OK Signing off, 0 deleted, 3 left\r\n'],
      ],
      { tls: true, port },
    );
  } finally {
    await h.close();
  }
});

test('Thunderbird: AUTH then CAPA probes, AUTH PLAIN with a continuation, STAT, LIST, UIDL, RETR, QUIT', async () => {
  const { h, ids } = await mailbox();
  try {
    await replay(h, [
      ['AUTH', '+OK Supported authentication mechanisms\r\nPLAIN\r\nLOGIN\r\n.\r\n'],
      ['CAPA', CAPA_PLAIN],
      ['AUTH PLAIN', '+ \r\n'],
      [b64(`\0${USER}\0${PASSWORD}`), '+OK Logged in, 3 messages\r\n'],
      ['STAT', `+OK 3 ${S1 + S2 + S3}\r\n`],
      ['LIST', list([[1, S1], [2, S2], [3, S3]])],
      ['UIDL', uidl([[1, ids[0]!], [2, ids[1]!], [3, ids[2]!]])],
      ['RETR 1', RETR1],
      // "Fetch headers only" for a large message: TOP n 0.
      ['TOP 2 0', '+OK Top of message follows\r\nFrom: shop@example.net\r\nSubject: Receipt\r\n\r\n.\r\n'],
      ['RETR 3', RETR3],
      ['QUIT', '+OK Signing off, 0 deleted, 3 left\r\n'],
    ]);
  } finally {
    await h.close();
  }
});

test('Apple Mail: CAPA, AUTH PLAIN with initial response, STAT, UIDL, LIST, TOP probes, RETR, QUIT', async () => {
  const { h, ids } = await mailbox();
  try {
    await replay(h, [
      ['CAPA', CAPA_PLAIN],
      [`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`, '+OK Logged in, 3 messages\r\n'],
      ['STAT', `+OK 3 ${S1 + S2 + S3}\r\n`],
      ['UIDL', uidl([[1, ids[0]!], [2, ids[1]!], [3, ids[2]!]])],
      ['LIST', list([[1, S1], [2, S2], [3, S3]])],
      ['TOP 1 0', '+OK Top of message follows\r\nFrom: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: Lunch\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\n.\r\n'],
      ['TOP 3 0', `+OK Top of message follows\r\n${W3}.\r\n`],
      ['RETR 1', RETR1],
      ['RETR 2', RETR2],
      ['RETR 3', RETR3],
      ['NOOP', '+OK\r\n'],
      ['QUIT', '+OK Signing off, 0 deleted, 3 left\r\n'],
    ]);
  } finally {
    await h.close();
  }
});

test('leave on server for 14 days: UIDLs are stable, only new mail is fetched, old mail deleted later', async () => {
  const { h, ids } = await mailbox();
  try {
    // Day 1: download everything, leave it on the server.
    await replay(h, [
      [`USER ${USER}`, '+OK Send your password\r\n'],
      [`PASS ${PASSWORD}`, '+OK Logged in, 3 messages\r\n'],
      ['UIDL', uidl([[1, ids[0]!], [2, ids[1]!], [3, ids[2]!]])],
      ['LIST', list([[1, S1], [2, S2], [3, S3]])],
      ['RETR 1', RETR1],
      ['RETR 2', RETR2],
      ['RETR 3', RETR3],
      ['QUIT', '+OK Signing off, 0 deleted, 3 left\r\n'],
    ]);
    const late = await h.deliver(M1);
    // Day 15: the same UIDLs come back; fetch only the new one, delete those older than 14 days.
    await replay(h, [
      [`USER ${USER}`, '+OK Send your password\r\n'],
      [`PASS ${PASSWORD}`, '+OK Logged in, 4 messages\r\n'],
      ['UIDL', uidl([[1, ids[0]!], [2, ids[1]!], [3, ids[2]!], [4, late.messageId]])],
      ['LIST 4', `+OK 4 ${S1}\r\n`],
      ['RETR 4', RETR1],
      ['DELE 1', '+OK Message 1 marked for deletion\r\n'],
      ['DELE 2', '+OK Message 2 marked for deletion\r\n'],
      ['DELE 3', '+OK Message 3 marked for deletion\r\n'],
      ['QUIT', '+OK Signing off, 3 deleted, 1 left\r\n'],
    ]);
    // Renumbered, but the UIDL of what is left is unchanged.
    await replay(h, [
      [`USER ${USER}`, '+OK Send your password\r\n'],
      [`PASS ${PASSWORD}`, '+OK Logged in, 1 message\r\n'],
      ['UIDL', uidl([[1, late.messageId]])],
      ['QUIT', '+OK Signing off, 0 deleted, 1 left\r\n'],
    ]);
    for (const id of [...ids, late.messageId]) assert.match(id, /^[\x21-\x7e]{1,70}$/, 'RFC 1939 7: UIDL is 1-70 printable characters');
  } finally {
    await h.close();
  }
});
