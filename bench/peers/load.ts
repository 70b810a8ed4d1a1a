// The client side of the comparison, in a process of its own (so that the server's
// CPU and memory are the server's): `node --import tsx bench/peers/load.ts '<json>'`
// runs one workload against one port and prints `result <json>`. The same code and
// the same commands go to Steadymail and to the peer.
//   smtp:  N senders on one connection each, MAIL/RCPT/DATA in turn, for S seconds
//          (a short text part and a base64 attachment, random: no two messages alike).
//   pop3:  each user: USER, PASS, LIST, RETR every message, QUIT (all users at once).
//   imap:  N clients, each its own user, looping over SELECT, FETCH 20 FLAGS+ENVELOPE,
//          FETCH one BODY[], STORE, SEARCH SUBJECT, APPEND (10 KiB, shaped as for SMTP),
//          UID STORE \Deleted, UID EXPUNGE.
//   idle:  N connections log in, SELECT INBOX and IDLE; prints `ready`, waits for a line
//          on stdin, then closes them.
//   warm:  each user: POP3 LIST, then IMAP SELECT and FETCH 1:* (FLAGS ENVELOPE).

import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { SmtpTalk } from '../../test/smtp/harness.js';
import { RawClient } from '../../test/imap/harness.js';
import { BenchClient } from '../pop3.js';
import { PASSWORD, RECIPIENT } from './data.js';

export type Workload =
  | { kind: 'smtp'; port: number; senders: number; bytes: number; seconds: number }
  | { kind: 'pop3'; port: number; users: string[]; messages: number }
  | { kind: 'imap'; port: number; users: string[]; clients: number; seconds: number; messages: number }
  | { kind: 'idle'; port: number; users: string[]; connections: number }
  | { kind: 'warm'; pop3Port: number; imapPort: number; users: string[] };

export interface LoadResult {
  /** Completed units: messages accepted, messages retrieved, IMAP commands, connections. */
  count: number;
  seconds: number;
  bytes: number;
  p50Ms: number;
  p99Ms: number;
  /** IMAP: mean milliseconds per command, by command. */
  byCommand?: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function result(count: number, seconds: number, latencies: number[], bytes = 0): LoadResult {
  latencies.sort((a, b) => a - b);
  return { count, seconds, bytes, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/**
 * A message of about `bytes`, shaped like most mail of that size: a short text part and
 * a base64 attachment (random, so no two share a blob), with a unique Message-ID.
 */
function newMessage(bytes: number): string {
  const id = randomBytes(8).toString('hex');
  const text = Array.from({ length: 12 }, (_, l) => `Line ${l} of message ${id}: the quick brown fox jumps over the lazy dog.`).join('\r\n');
  const head =
    `From: <s@sender.test>\r\nTo: <${RECIPIENT}>\r\nSubject: bench ${id}\r\nMessage-ID: <${id}@sender.test>\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="b${id}"\r\n\r\n--b${id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n--b${id}\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="${id}.bin"\r\n\r\n`;
  const room = Math.max(76, bytes - head.length - 40);
  return `${head}${randomBytes(Math.floor((room * 3) / 4 / 1.03)).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b${id}--\r\n`;
}

async function smtp(w: Extract<Workload, { kind: 'smtp' }>): Promise<LoadResult> {
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + w.seconds * 1000;
  await Promise.all(
    Array.from({ length: w.senders }, async () => {
      const c = await SmtpTalk.connect(w.port);
      await c.reply();
      await c.cmd('EHLO sender.test');
      while (performance.now() < deadline) {
        const data = `${newMessage(w.bytes)}.`;
        for (const line of ['MAIL FROM:<s@sender.test>', `RCPT TO:<${RECIPIENT}>`, 'DATA']) {
          const r = await c.cmd(line);
          if (!/^[23]/.test(r)) throw new Error(`${line}: ${r}`);
        }
        const t0 = performance.now();
        const r = await c.cmd(data);
        if (!r.startsWith('250')) throw new Error(`unexpected reply: ${r}`);
        latencies.push(performance.now() - t0);
      }
      await c.cmd('QUIT');
      c.close();
    }),
  );
  return result(latencies.length, (performance.now() - start) / 1000, latencies);
}

async function pop3Session(port: number, user: string, messages: number | undefined): Promise<{ retrieved: number; bytes: number }> {
  const c = await BenchClient.connect(port);
  await c.command(`USER ${user}`);
  await c.command(`PASS ${PASSWORD}`);
  await c.command('LIST', true);
  let bytes = 0;
  for (let n = 1; n <= (messages ?? 0); n++) bytes += await c.command(`RETR ${n}`, true);
  await c.command('QUIT');
  c.close();
  return { retrieved: messages ?? 0, bytes };
}

async function pop3(w: Extract<Workload, { kind: 'pop3' }>): Promise<LoadResult> {
  const latencies: number[] = [];
  const start = performance.now();
  let count = 0;
  let bytes = 0;
  await Promise.all(
    w.users.map(async (user) => {
      const t0 = performance.now();
      const r = await pop3Session(w.port, user, w.messages);
      latencies.push(performance.now() - t0);
      count += r.retrieved;
      bytes += r.bytes;
    }),
  );
  return result(count, (performance.now() - start) / 1000, latencies, bytes);
}

async function imapLogin(port: number, user: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  const r = await c.cmd('l', `LOGIN ${user} ${PASSWORD}`, 60_000);
  if (!r.at(-1)?.startsWith('l OK')) throw new Error(`login ${user}: ${r.at(-1)}`);
  return c;
}

async function imap(w: Extract<Workload, { kind: 'imap' }>): Promise<LoadResult> {
  const latencies: number[] = [];
  const byCommand = new Map<string, [number, number]>();
  const start = performance.now();
  const deadline = start + w.seconds * 1000;
  await Promise.all(
    Array.from({ length: w.clients }, async (_, k) => {
      const c = await imapLogin(w.port, w.users[k % w.users.length]!);
      let tag = 0;
      const op = async (command: string): Promise<string[]> => {
        const t = `t${++tag}`;
        const t0 = performance.now();
        const lines = await c.cmd(t, command, 60_000);
        const last = lines.at(-1) ?? '';
        if (!last.startsWith(`${t} OK`)) throw new Error(`${command.slice(0, 40)}: ${last}`);
        const ms = performance.now() - t0;
        latencies.push(ms);
        const name = command.split(' ').slice(0, command.startsWith('UID') ? 2 : 1).join(' ');
        const e = byCommand.get(name) ?? [0, 0];
        e[0] += ms;
        e[1]++;
        byCommand.set(name, e);
        return lines;
      };
      let i = 0;
      while (performance.now() < deadline) {
        i++;
        const n = 1 + ((k * 7919 + i * 104729) % (w.messages - 20));
        await op('SELECT INBOX');
        await op(`FETCH ${n}:${n + 19} (FLAGS ENVELOPE)`);
        await op(`FETCH ${n} BODY.PEEK[]`);
        await op(`STORE ${n} ${i % 2 === 0 ? '-' : '+'}FLAGS.SILENT (\\Flagged)`);
        await op(`SEARCH SUBJECT "number ${n}"`);
        const m = newMessage(10 * 1024);
        const appended = await op(`APPEND INBOX {${Buffer.byteLength(m)}+}\r\n${m}`);
        const uid = /APPENDUID \d+ (\d+)/.exec(appended.at(-1) ?? '')?.[1];
        if (!uid) throw new Error(`no APPENDUID: ${appended.at(-1)}`);
        await op(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
        await op(`UID EXPUNGE ${uid}`);
      }
      await c.cmd('z', 'LOGOUT');
      c.close();
    }),
  );
  return { ...result(latencies.length, (performance.now() - start) / 1000, latencies), byCommand: Object.fromEntries([...byCommand].map(([k, [sum, n]]) => [k, sum / n])) };
}

async function idle(w: Extract<Workload, { kind: 'idle' }>): Promise<LoadResult> {
  const clients: RawClient[] = [];
  const start = performance.now();
  // Connect in waves of 50, as clients reconnecting after a restart would.
  for (let i = 0; i < w.connections; i += 50) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(50, w.connections - i) }, async (_, j) => {
        const c = await imapLogin(w.port, w.users[(i + j) % w.users.length]!);
        await c.cmd('s', 'SELECT INBOX', 60_000);
        c.write('i IDLE\r\n');
        const line = await c.next(60_000);
        if (!line.startsWith('+')) throw new Error(`IDLE: ${line}`);
        return c;
      }),
    );
    clients.push(...wave);
  }
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  for (const c of clients) c.close();
  return result(clients.length, seconds, []);
}

async function warm(w: Extract<Workload, { kind: 'warm' }>): Promise<LoadResult> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < w.users.length) {
        const user = w.users[next++]!;
        await pop3Session(w.pop3Port, user, undefined);
        const c = await imapLogin(w.imapPort, user);
        await c.cmd('s', 'SELECT INBOX', 60_000);
        await c.cmd('f', 'FETCH 1:* (FLAGS ENVELOPE)', 120_000);
        await c.cmd('x', 'SEARCH SUBJECT "number 1"', 120_000);
        await c.cmd('z', 'LOGOUT');
        c.close();
      }
    }),
  );
  return result(w.users.length, (performance.now() - start) / 1000, []);
}

const w = JSON.parse(process.argv[2] ?? '{}') as Workload;
const run = { smtp, pop3, imap, idle, warm }[w.kind] as (w: Workload) => Promise<LoadResult>;
process.stdout.write(`result ${JSON.stringify(await run(w))}\n`);
process.exit(0);
