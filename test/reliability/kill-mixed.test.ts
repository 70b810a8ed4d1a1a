// SIGKILL at random moments under mixed load, KILLS times (50 in CI; more in soak runs):
// SMTP deliveries, IMAP APPEND / STORE / MOVE / EXPUNGE, POP3 DELE + QUIT and webmail
// sends run against the real server while it is killed. After every restart the clients go on; at the end
// every acknowledged operation is present exactly once, nothing unacknowledged is
// half-applied (never two copies, never a message in two places), and `steadymail
// check` finds the store consistent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { cli, serve, tempDataDir, type Running } from '../e2e/serve.js';
import { Wire } from '../security/wire.js';
import { Client } from '../webmail/api-harness.js';
import type { SendResponse } from '../../src/http/api/types.js';
import { ImapClient } from './clients.js';

const KILLS = Number(process.env.KILLS ?? 50);
let dataDir: string;

before(async () => {
  dataDir = tempDataDir();
  assert.equal((await cli(dataDir, ['domain', 'add', 'kill.test'])).code, 0);
  for (const u of ['alice', 'bob', 'carol']) assert.equal((await cli(dataDir, ['user', 'add', `${u}@kill.test`, '--password-stdin'], `${u}-secret\n`)).code, 0);
});

after(() => rmSync(dataDir, { recursive: true, force: true }));

interface Expect {
  /** Acknowledged: must exist (unless removed with acknowledgement). */
  acked: boolean;
  where: 'INBOX' | 'Archive' | 'gone' | 'unknown';
  flagged: boolean;
}

const smtpAcked = new Set<string>();
const pop3Deleted = new Set<string>();
/** Messages marked in a POP3 session whose QUIT reply never came: all deleted or none. */
const pop3Unsure: string[][] = [];
const bob = new Map<string, Expect>();
/** Carol's webmail sends (to herself): those the API acknowledged, and whether with a copy in Sent. */
const webAcked = new Map<string, { sent: boolean }>();
const webTried: string[] = [];
const stats = { smtp: 0, appends: 0, moves: 0, expunges: 0, stores: 0, pop3Quits: 0, webmailSends: 0 };

class Imap {
  private n = 0;
  private constructor(private readonly c: Wire) {}
  static async open(port: number): Promise<Imap> {
    const c = await Wire.connect(port);
    await c.until(/^\* OK.*\r\n/m, 3000);
    const imap = new Imap(c);
    await imap.cmd('LOGIN bob@kill.test bob-secret');
    return imap;
  }
  async cmd(line: string, literal?: string): Promise<string> {
    const tag = `k${++this.n}`;
    if (literal === undefined) this.c.write(`${tag} ${line}\r\n`);
    else this.c.write(`${tag} ${line} {${Buffer.byteLength(literal)}+}\r\n${literal}\r\n`);
    const reply = await this.c.until(new RegExp(`^${tag} .*\\r\\n`, 'm'), 5000);
    if (!new RegExp(`^${tag} OK`, 'm').test(reply)) throw new Error(`${line}: ${reply.slice(-200)}`);
    return reply;
  }
  close(): void {
    this.c.close();
  }
}

/** Bob's client: append, then flag, move or expunge what it appended. */
async function imapLoad(port: number, life: number, alive: () => boolean): Promise<void> {
  const imap = await Imap.open(port);
  try {
    await imap.cmd('CREATE Archive').catch(() => undefined);
    await imap.cmd('SELECT INBOX');
    for (let i = 0; alive(); i++) {
      const subject = `ap-${life}-${i}`;
      bob.set(subject, { acked: false, where: 'unknown', flagged: false });
      const r = await imap.cmd('APPEND INBOX', `From: bob@kill.test\r\nSubject: ${subject}\r\n\r\nbody ${subject}\r\n`);
      const uid = /APPENDUID \d+ (\d+)/.exec(r)?.[1];
      bob.set(subject, { acked: true, where: 'INBOX', flagged: false });
      stats.appends++;
      if (!uid) continue;
      const e = bob.get(subject)!;
      switch (i % 4) {
        case 1:
          await imap.cmd(`UID STORE ${uid} +FLAGS (\\Flagged)`);
          e.flagged = true;
          stats.stores++;
          break;
        case 2:
          e.where = 'unknown';
          await imap.cmd(`UID MOVE ${uid} Archive`);
          e.where = 'Archive';
          stats.moves++;
          break;
        case 3:
          e.where = 'unknown';
          await imap.cmd(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
          await imap.cmd(`UID EXPUNGE ${uid}`);
          e.where = 'gone';
          stats.expunges++;
          break;
      }
    }
  } finally {
    imap.close();
  }
}

async function smtpLoad(port: number, life: number, alive: () => boolean): Promise<void> {
  const mx = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 2000, socketTimeout: 3000 });
  for (let i = 0; alive(); i++) {
    const subject = `in-${life}-${i}`;
    const r = await mx.sendMail({ from: 'x@remote.test', to: 'alice@kill.test', subject, text: subject });
    if (/^250 /.test(r.response)) {
      smtpAcked.add(subject);
      stats.smtp++;
    }
  }
}

/** Alice's POP3 client: deletes the two oldest messages per session. */
async function pop3Load(port: number, alive: () => boolean): Promise<void> {
  while (alive()) {
    const c = await Wire.connect(port);
    try {
      await c.until(/^\+OK.*\r\n/m, 3000);
      c.write('USER alice@kill.test\r\nPASS alice-secret\r\n');
      await c.until(/^\+OK.*\r\n/m, 3000);
      const pass = await c.until(/^[-+].*\r\n/m, 3000);
      if (!pass.startsWith('+OK')) {
        await new Promise((r) => setTimeout(r, 50)); // [IN-USE] after a kill: the lease expires by itself
        continue;
      }
      c.write('UIDL\r\n');
      const uidl = await c.until(/^\.\r\n/m, 3000);
      const numbers = [...uidl.matchAll(/^(\d+) \S+\r$/gm)].map((m) => m[1]!).slice(0, 2);
      const subjects: string[] = [];
      for (const n of numbers) {
        c.write(`TOP ${n} 0\r\n`);
        const top = await c.until(/^\.\r\n/m, 3000);
        const s = /^Subject: (\S+)/m.exec(top)?.[1];
        if (s) subjects.push(s);
      }
      for (const n of numbers) {
        c.write(`DELE ${n}\r\n`);
        await c.until(/^[-+].*\r\n/m, 3000);
      }
      c.write('QUIT\r\n');
      pop3Unsure.push(subjects);
      if ((await c.until(/^[-+].*\r\n/m, 3000)).startsWith('+OK')) {
        pop3Unsure.pop();
        for (const s of subjects) pop3Deleted.add(s);
        stats.pop3Quits++;
      }
    } finally {
      c.close();
    }
  }
}

/** Carol's webmail: the session cookie outlives the kills (sessions are in the store). */
let carol: { cookie: string; csrf: string } | undefined;
async function webmailLoad(port: number, life: number, alive: () => boolean): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const client = async (): Promise<Client> => {
    if (carol) return Object.assign(new Client(base), carol);
    const c = await Client.login(base, 'carol@kill.test', 'carol-secret');
    carol = { cookie: c.cookie, csrf: c.csrf };
    return c;
  };
  let web = await client();
  for (let i = 0; alive(); i++) {
    const subject = `web-${life}-${i}`;
    webTried.push(subject);
    const res = await web.request('POST', '/api/send', { to: ['carol@kill.test'], subject, text: subject });
    if (res.status === 401) {
      carol = undefined;
      web = await client();
      continue;
    }
    if (res.status !== 200) throw new Error(`webmail send ${subject}: ${res.status} ${await res.text()}`);
    const sent = (await res.json()) as SendResponse;
    webAcked.set(subject, { sent: sent.sentId !== null });
    stats.webmailSends++;
  }
}

async function listSubjects(port: number, mailbox: string): Promise<Array<{ subject: string; flagged: boolean }>> {
  const imap = await Imap.open(port);
  try {
    const sel = await imap.cmd(`EXAMINE ${mailbox}`);
    if (/\* 0 EXISTS/.test(sel)) return [];
    const r = await imap.cmd('FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    return [...r.matchAll(/FLAGS \(([^)]*)\)[^\r]*\r\nSubject: (\S+)/g)].map((m) => ({ subject: m[2]!, flagged: m[1]!.includes('\\Flagged') }));
  } finally {
    imap.close();
  }
}

test(`SIGKILL under mixed load, ${KILLS} times: every acknowledged operation holds, nothing is half-applied`, { timeout: 30 * 60_000 }, async () => {
  let server: Running | undefined;
  for (let life = 0; life < KILLS; life++) {
    server = await serve(dataDir, { STEADYMAIL_SERVER_SHUTDOWN_GRACE_SECONDS: '1' }, ['smtp', 'pop3', 'imap', 'http']);
    const ports = server.ports;
    let alive = true;
    const quiet = (p: Promise<void>) => p.catch((e: unknown) => { if (process.env.KILL_DEBUG) console.error(String(e)); });
    const load = [
      quiet(smtpLoad(ports.get('smtp')!, life, () => alive)),
      quiet(smtpLoad(ports.get('smtp')!, life + 100_000, () => alive)),
      quiet(imapLoad(ports.get('imap')!, life, () => alive)),
      quiet(pop3Load(ports.get('pop3')!, () => alive)),
      quiet(webmailLoad(ports.get('http')!, life, () => alive)),
    ];
    await new Promise((r) => setTimeout(r, Number(process.env.LIFE_MS ?? 0) || 300 + Math.random() * 1200));
    server.child.kill('SIGKILL');
    await new Promise((r) => server!.child.once('exit', r));
    alive = false;
    await Promise.all(load);
  }
  server = await serve(dataDir, {}, ['imap']);
  try {
    const port = server.ports.get('imap')!;
    // Alice's INBOX, read as Bob cannot: through a second login.
    const aliceImap = await (async () => {
      const c = await Wire.connect(port);
      await c.until(/^\* OK.*\r\n/m);
      c.write('a LOGIN alice@kill.test alice-secret\r\nb EXAMINE INBOX\r\nc FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n');
      const out = await c.until(/^c (OK|BAD|NO).*\r\n/m, 20_000);
      c.close();
      return [...out.matchAll(/\r\nSubject: (\S+)/g)].map((m) => m[1]!);
    })();
    const aliceCount = new Map<string, number>();
    for (const s of aliceImap) aliceCount.set(s, (aliceCount.get(s) ?? 0) + 1);
    for (const s of aliceCount.keys()) assert.equal(aliceCount.get(s), 1, `${s} delivered once`);
    const deletedUnacknowledged = new Set<string>();
    for (const group of pop3Unsure) {
      // Applied if any of its messages vanished without an acknowledged deletion.
      const applied = group.some((s) => !aliceCount.has(s) && !pop3Deleted.has(s));
      if (!applied) continue;
      for (const s of group) assert.equal(aliceCount.get(s), undefined, `an interrupted QUIT deleted all of ${group.join(', ')} or none`);
      for (const s of group) deletedUnacknowledged.add(s);
    }
    for (const s of smtpAcked) {
      if (!pop3Deleted.has(s) && !deletedUnacknowledged.has(s)) assert.equal(aliceCount.get(s), 1, `acknowledged delivery ${s} is present`);
    }
    for (const s of pop3Deleted) assert.equal(aliceCount.get(s), undefined, `${s} deleted by an acknowledged QUIT is gone`);

    const inbox = await listSubjects(port, 'INBOX');
    const archive = await listSubjects(port, 'Archive');
    const seen = new Map<string, Array<{ box: string; flagged: boolean }>>();
    for (const [box, list] of [['INBOX', inbox], ['Archive', archive]] as const) {
      for (const m of list) seen.set(m.subject, [...(seen.get(m.subject) ?? []), { box, flagged: m.flagged }]);
    }
    for (const [subject, places] of seen) assert.equal(places.length, 1, `${subject} is in exactly one place: ${JSON.stringify(places)}`);
    for (const [subject, e] of bob) {
      const at = seen.get(subject)?.[0];
      if (!e.acked || e.where === 'unknown') continue;
      if (e.where === 'gone') {
        assert.equal(at, undefined, `${subject} expunged with acknowledgement is gone`);
        continue;
      }
      assert.equal(at?.box, e.where, `${subject} is in ${e.where}`);
      if (e.flagged) assert.equal(at?.flagged, true, `${subject} keeps its acknowledged \\Flagged`);
    }

    // Carol's webmail sends: acknowledged ones delivered once and kept in Sent once; an
    // unacknowledged one at most once in each.
    const carolImap = await ImapClient.login(port, 'carol@kill.test', 'carol-secret');
    const tally = async (box: string) => {
      const n = new Map<string, number>();
      for (const s of await carolImap.subjects(box)) n.set(s, (n.get(s) ?? 0) + 1);
      return n;
    };
    const carolInbox = await tally('INBOX');
    const carolSent = await tally('Sent');
    carolImap.close();
    for (const s of webTried) {
      const acked = webAcked.get(s);
      assert.ok((carolInbox.get(s) ?? 0) <= 1 && (carolSent.get(s) ?? 0) <= 1, `webmail send ${s} is stored at most once in INBOX and in Sent`);
      if (!acked) continue;
      assert.equal(carolInbox.get(s), 1, `acknowledged webmail send ${s} was delivered once`);
      if (acked.sent) assert.equal(carolSent.get(s), 1, `acknowledged webmail send ${s} is in Sent once`);
    }
  } finally {
    await server.stop();
  }
  const check = await cli(dataDir, ['check', '--json']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.ok(stats.smtp > KILLS && stats.appends > KILLS && stats.webmailSends > KILLS, `load ran: ${JSON.stringify(stats)}`);
  process.stdout.write(`# kill-mixed: ${KILLS} kills, ${JSON.stringify(stats)}\n`);
});
