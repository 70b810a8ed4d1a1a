// Search, live updates over SSE (fed by the ChangeBus, including changes made over
// IMAP), and settings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { MessagePage, ServerEvent, Settings } from '../../src/http/api/types.js';

let s: ApiServer;
let c: Client;
before(async () => {
  s = await startApiServer({ 'live@l.test': 'pw-live-1', 'other@l.test': 'pw-other' }, { STEADYMAIL_LISTEN_IMAP: '127.0.0.1:0' });
  c = await Client.login(s.base, 'live@l.test', 'pw-live-1');
});
after(async () => {
  await s.close();
});

test('search: from, to, subject, body, any text, date range, attachments; Trash and Junk left out unless asked', async () => {
  const inbox = await mailboxId(s.store, 'live@l.test', 'INBOX');
  const trash = await mailboxId(s.store, 'live@l.test', 'Trash');
  const day = (d: number) => new Date(Date.UTC(2026, 4, d, 12));
  await putMessage(s.store, inbox, 'From: "Anna Berg" <anna@x.test>\nTo: live@l.test\nSubject: Invoice 42\n\nPlease pay the invoice.\n', { date: day(1) });
  await putMessage(s.store, inbox, 'From: carl@y.test\nTo: team@l.test\nSubject: Lunch\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n<p>K=E4sesp=E4tzle today?</p>\n', { date: day(5) });
  await putMessage(s.store, inbox, 'From: anna@x.test\nSubject: Report\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=r.pdf\n\nJVBERi0=\n--b--\n', { date: day(9) });
  await putMessage(s.store, trash, 'From: anna@x.test\nSubject: Invoice old\n\ninvoice\n', { date: day(2) });

  const subjects = async (q: string) => (await c.get<MessagePage>(`/api/search?${q}`)).items.map((m) => m.subject).sort();
  assert.deepEqual(await subjects('from=anna'), ['Invoice 42', 'Report']);
  assert.deepEqual(await subjects('from=Berg'), ['Invoice 42']);
  assert.deepEqual(await subjects('to=team'), ['Lunch']);
  assert.deepEqual(await subjects('subject=invoice'), ['Invoice 42']);
  assert.deepEqual(await subjects(`subject=invoice&folderId=${trash}`), ['Invoice old']);
  assert.deepEqual(await subjects(`body=${encodeURIComponent('käsespätzle')}`), ['Lunch'], 'body search decodes QP and charsets');
  assert.deepEqual(await subjects('body=pay'), ['Invoice 42']);
  assert.deepEqual(await subjects('text=lunch'), ['Lunch']);
  assert.deepEqual(await subjects('hasAttachment=1'), ['Report']);
  assert.deepEqual(await subjects('after=2026-05-02&before=2026-05-05'), ['Lunch'], 'before is inclusive of the day');
  assert.deepEqual(await subjects('from=anna&body=attached'), ['Report']);
  const paged = await c.get<MessagePage>('/api/search?from=anna&limit=1&offset=1');
  assert.equal(paged.total, 2);
  assert.deepEqual(paged.items.map((m) => m.subject), ['Invoice 42']);
  assert.equal((await c.request('GET', '/api/search?after=yesterday')).status, 400);
});

/** Reads server-sent events from a fetch response. */
class EventReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buf = '';
  readonly events: ServerEvent[] = [];
  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }
  /** Reads until `until` holds for the events received so far. */
  async until(until: (events: ServerEvent[]) => boolean, timeoutMs = 5000): Promise<ServerEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!until(this.events)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.events)}`);
      const { value, done } = await this.reader.read();
      if (done) throw new Error('the stream ended');
      this.buf += Buffer.from(value).toString('utf8');
      let i;
      while ((i = this.buf.indexOf('\n\n')) >= 0) {
        const block = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) this.events.push(JSON.parse(data.slice(6)) as ServerEvent);
      }
    }
    return this.events;
  }
}

test('live updates: new mail, IMAP flag changes and folder changes arrive as server-sent events', async () => {
  const controller = new AbortController();
  const res = await fetch(`${s.base}/api/events`, { headers: { cookie: c.cookie }, signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const stream = new EventReader(res);
  await stream.until((e) => e.some((x) => x.type === 'ready'));
  const inbox = await mailboxId(s.store, 'live@l.test', 'INBOX');

  // New mail (the delivery path publishes on the bus).
  await putMessage(s.store, inbox, 'Subject: live one\n\nx\n');
  const ev1 = await stream.until((e) => e.some((x) => x.type === 'folder' && x.kind === 'exists'));
  assert.ok(ev1.some((x) => x.type === 'folder' && x.folderId === String(inbox)));

  // Another account's mail says nothing here.
  await putMessage(s.store, await mailboxId(s.store, 'other@l.test', 'INBOX'), 'Subject: not yours\n\nx\n');

  // A flag set over IMAP.
  const imap = new ImapFlow({ host: '127.0.0.1', port: s.server.addresses.get('imap')!.port, secure: false, auth: { user: 'live@l.test', pass: 'pw-live-1' }, logger: false, tls: { rejectUnauthorized: false } });
  await imap.connect();
  await imap.mailboxOpen('INBOX');
  await imap.messageFlagsAdd('1:*', ['\\Flagged']);
  const ev2 = await stream.until((e) => e.some((x) => x.type === 'folder' && x.kind === 'flags'));
  assert.ok(ev2.every((x) => x.type !== 'folder' || x.folderId === String(inbox)), 'only this account’s folders');
  await imap.mailboxCreate('FromImap');
  const ev3 = await stream.until((e) => e.some((x) => x.type === 'folders'));
  assert.deepEqual(ev3.find((x) => x.type === 'folders'), { type: 'folders', kind: 'created', name: 'FromImap' });
  await imap.logout();
  controller.abort();
});

test('settings: display name and signature; password change keeps this session and ends the others', async () => {
  const other = await Client.login(s.base, 'live@l.test', 'pw-live-1');
  const st = await c.json<Settings>('PUT', '/api/settings', { displayName: 'Live User', signature: '-- \r\nLive' });
  assert.deepEqual(st, { address: 'live@l.test', displayName: 'Live User', signature: '-- \nLive' });
  assert.deepEqual(await other.get<Settings>('/api/settings'), st);
  assert.equal((await c.request('PUT', '/api/settings', { displayName: 'a\r\nBcc: x@y' })).status, 400);
  assert.equal((await c.request('PUT', '/api/settings', { signature: 'x'.repeat(20_000) })).status, 400);

  const wrong = await c.request('POST', '/api/settings/password', { currentPassword: 'nope', newPassword: 'a-new-password' });
  assert.equal(wrong.status, 403);
  assert.equal((await c.request('POST', '/api/settings/password', { currentPassword: 'pw-live-1', newPassword: 'short' })).status, 400);
  assert.equal((await c.request('POST', '/api/settings/password', { currentPassword: 'pw-live-1', newPassword: 'a-new-password' })).status, 200);
  assert.equal((await c.request('GET', '/api/session')).status, 200, 'this session stays');
  assert.equal((await other.request('GET', '/api/session')).status, 401, 'the other session ended');
  await assert.rejects(Client.login(s.base, 'live@l.test', 'pw-live-1'));
  await Client.login(s.base, 'live@l.test', 'a-new-password');
});
