// Compose: uploads, send through the submission pipeline (local delivery, outbound
// queue, Sent), header injection, sender checks, drafts, autocomplete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { DraftResponse, MessageDetail, MessagePage, RecipientSuggestions, SendResponse, Upload } from '../../src/http/api/types.js';

let s: ApiServer;
let alice: Client;
let bob: Client;
before(async () => {
  s = await startApiServer({ 'alice@c.test': 'pw-alice', 'bob@c.test': 'pw-bob' }, { STEADYMAIL_WEBMAIL_MAX_UPLOAD_BYTES: String(1024 * 1024) });
  await s.store.addAlias('sales@c.test', ['alice@c.test']);
  alice = await Client.login(s.base, 'alice@c.test', 'pw-alice');
  bob = await Client.login(s.base, 'bob@c.test', 'pw-bob');
});
after(async () => {
  await s.close();
});

async function upload(c: Client, name: string, bytes: Buffer, type: string): Promise<Upload> {
  const res = await c.request('POST', `/api/uploads?filename=${encodeURIComponent(name)}`, bytes, { 'content-type': type });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as Upload;
}

test('send: local delivery, remote recipients queued, Bcc only in Sent, attachment round trip, reply flag', async () => {
  await alice.json('PUT', '/api/settings', { displayName: 'Alice Ä' });
  const file = Buffer.alloc(300_000, 7);
  const up = await upload(alice, 'Résumé 2026.pdf', file, 'application/pdf');
  assert.equal(up.size, file.length);
  // A file whose type is JSON is stored as bytes, not parsed.
  const json = await upload(alice, 'data.json', Buffer.from('{"a":1}'), 'application/json');
  assert.equal(json.size, 7);

  const bobInbox = await mailboxId(s.store, 'bob@c.test', 'INBOX');
  const original = await putMessage(s.store, await mailboxId(s.store, 'alice@c.test', 'INBOX'), 'From: bob@c.test\nSubject: question\nMessage-ID: <q1@c.test>\n\n?\n');
  const aliceInbox = await mailboxId(s.store, 'alice@c.test', 'INBOX');

  const sent = await alice.post<SendResponse>('/api/send', {
    to: ['Bob <bob@c.test>'],
    cc: ['someone@remote.example'],
    bcc: ['hidden@elsewhere.example'],
    subject: 'Re: question — Grüße',
    text: 'Answer.\n',
    html: '<p>Answer <script>alert(1)</script><b>bold</b></p>',
    inReplyTo: '<q1@c.test>',
    references: ['<q1@c.test>'],
    attachments: [up.id, json.id],
    replyTo: { messageId: `${aliceInbox}.${original.uid}`, kind: 'reply' },
  });
  assert.equal(sent.delivered, 1);
  assert.equal(sent.queued, 2);
  assert.ok(sent.sentId);

  // Bob has it, without a Bcc header, with Alice's display name, the HTML sanitised.
  const page = await bob.get<MessagePage>(`/api/folders/${bobInbox}/messages`);
  const got = page.items.find((m) => m.messageIdHeader === sent.messageIdHeader)!;
  assert.ok(got, 'delivered to the local recipient');
  assert.deepEqual(got.from, [{ name: 'Alice Ä', address: 'alice@c.test' }]);
  const raw = await (await bob.request('GET', `/api/messages/${got.id}/raw`)).text();
  assert.ok(!/^Bcc:/im.test(raw), 'no Bcc header');
  assert.ok(!raw.includes('hidden@elsewhere'), 'the Bcc address is nowhere');
  assert.ok(/^Received: from webmail \(\[127\.0\.0\.1\]\)\r\n\tby mail\.api\.test \(Steadymail\) with HTTP/m.test(raw), 'trace header');
  assert.ok(!raw.includes('<script'), 'no script');
  const d = await bob.get<MessageDetail>(`/api/messages/${got.id}`);
  assert.equal(d.headers.subject, 'Re: question — Grüße');
  assert.equal(d.headers.inReplyTo, '<q1@c.test>');
  const att = d.attachments.find((a) => a.contentType === 'application/pdf')!;
  assert.equal(att.filename, 'Résumé 2026.pdf');
  const dl = await bob.request('GET', att.url);
  assert.deepEqual(Buffer.from(await dl.arrayBuffer()), file);
  assert.match(dl.headers.get('content-disposition') ?? '', /filename\*=UTF-8''R%C3%A9sum%C3%A9%202026\.pdf/);

  // Remote recipients are on the outbound queue, from Alice's account.
  const queue = await s.store.listQueue();
  const domains = queue.map((q) => q.domain).sort();
  assert.deepEqual(domains, ['elsewhere.example', 'remote.example']);
  assert.ok(queue.every((q) => q.mailFrom === 'alice@c.test' && q.accountId !== null));

  // The Sent copy keeps Bcc; the replied message is \Answered.
  const sentRaw = await (await alice.request('GET', `/api/messages/${sent.sentId}/raw`)).text();
  assert.ok(/^Bcc: hidden@elsewhere\.example/m.test(sentRaw), 'Sent keeps Bcc');
  const [orig] = await s.store.getMessages(aliceInbox, [original.uid]);
  assert.ok(orig!.flags.includes('\\Answered'));

  // Autocomplete learned the recipients.
  const sug = await alice.get<RecipientSuggestions>('/api/recipients?q=bo');
  assert.deepEqual(sug.suggestions.map((x) => x.address), ['bob@c.test']);
  assert.equal(sug.suggestions[0]!.name, 'Bob');
  assert.equal((await bob.get<RecipientSuggestions>('/api/recipients?q=')).suggestions.length, 0, 'per account');
});

test('header injection and bad addresses are refused; the sender must be owned', async () => {
  const base = { to: ['bob@c.test'], subject: 'hi', text: 'x' };
  const cases: Array<[Record<string, unknown>, number, string]> = [
    [{ ...base, subject: 'hi\r\nBcc: victim@x.example' }, 400, 'invalid-header'],
    [{ ...base, subject: 'hi\nX-Evil: 1' }, 400, 'invalid-header'],
    [{ ...base, to: ['bob@c.test\r\nBcc: victim@x.example'] }, 400, 'invalid-header'],
    [{ ...base, to: ['"Bob\r\nX: y" <bob@c.test>'] }, 400, 'invalid-header'],
    [{ ...base, inReplyTo: '<a@b>\r\nX: y' }, 400, 'invalid-header'],
    [{ ...base, references: ['not-an-id'] }, 400, 'invalid-header'],
    [{ ...base, to: ['bob@c.test, eve@c.test'] }, 400, 'invalid-address'],
    [{ ...base, to: ['not an address'] }, 400, 'invalid-address'],
    [{ ...base, to: ['nobody@c.test'] }, 400, 'invalid-address'],
    [{ ...base, to: [] }, 400, 'invalid-address'],
    [{ ...base, from: 'bob@c.test' }, 403, 'sender-not-owned'],
    [{ ...base, attachments: ['nope'] }, 404, 'not-found'],
  ];
  const before = (await s.store.listQueue()).length;
  for (const [req, status, code] of cases) {
    const res = await alice.request('POST', '/api/send', req);
    assert.equal(res.status, status, JSON.stringify(req));
    assert.equal(((await res.json()) as { error: string }).error, code, JSON.stringify(req));
  }
  assert.equal((await s.store.listQueue()).length, before, 'nothing was queued');
  // An alias of the account may be the sender.
  const ok = await alice.post<SendResponse>('/api/send', { ...base, from: 'Sales <sales@c.test>' });
  assert.equal(ok.delivered, 1);
});

test('uploads above webmail.max_upload_bytes are refused with 413; other accounts cannot use an upload', async () => {
  const big = await alice.request('POST', '/api/uploads?filename=big.bin', Buffer.alloc(1024 * 1024 + 1), { 'content-type': 'application/octet-stream' });
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as { error: string }).error, 'too-large');
  const up = await upload(alice, 'a.txt', Buffer.from('a'), 'text/plain');
  const res = await bob.request('POST', '/api/send', { to: ['alice@c.test'], subject: 's', text: 't', attachments: [up.id] });
  assert.equal(res.status, 404);
  assert.equal((await bob.request('DELETE', `/api/uploads/${up.id}`)).status, 404);
  assert.equal((await alice.request('DELETE', `/api/uploads/${up.id}`)).status, 200);
});

test('drafts: saved to Drafts with \\Draft, replaced on the next save, removed on send; forward as attachment', async () => {
  const drafts = await mailboxId(s.store, 'alice@c.test', 'Drafts');
  const first = await alice.post<DraftResponse>('/api/drafts', { to: ['bob@c.test'], bcc: ['x@c.test'], subject: 'draft', text: 'v1' });
  let page = await alice.get<MessagePage>(`/api/folders/${drafts}/messages`);
  assert.equal(page.total, 1);
  assert.ok(page.items[0]!.flags.includes('draft'));
  const aliceInbox = await mailboxId(s.store, 'alice@c.test', 'INBOX');
  const fwd = await putMessage(s.store, aliceInbox, 'From: x@y.test\nSubject: forward me\n\nbody\n');
  const second = await alice.post<DraftResponse>('/api/drafts', { to: ['bob@c.test'], subject: 'draft', text: 'v2', draftId: first.id, forwardAttachments: [`${aliceInbox}.${fwd.uid}`] });
  page = await alice.get<MessagePage>(`/api/folders/${drafts}/messages`);
  assert.equal(page.total, 1);
  assert.equal(page.items[0]!.id, second.id);
  const d = await alice.get<MessageDetail>(`/api/messages/${second.id}`);
  assert.match(d.text ?? '', /v2/);
  assert.ok(d.attachments.some((a) => a.contentType === 'message/rfc822' && a.filename === 'forward me.eml'));
  await alice.post('/api/send', { to: ['bob@c.test'], subject: 'draft', text: 'v3', draftId: second.id });
  page = await alice.get<MessagePage>(`/api/folders/${drafts}/messages`);
  assert.equal(page.total, 0);
});

test('rich text: sent as multipart/alternative, the HTML sanitised, the text part generated from it', async () => {
  const sent = await alice.post<SendResponse>('/api/send', {
    to: ['bob@c.test'],
    subject: 'Rich text',
    text: 'ignored: the text part is generated from the HTML',
    html: '<p>Hi <b>Bob</b>, <i>see</i> <a href="https://example.org/x" onclick="steal()">the plan</a>.</p><script>alert(1)</script><img src=x onerror="alert(2)"><ul><li>one</li><li>two</li></ul><blockquote>quoted <u>line</u></blockquote>',
  });
  const bobInbox = await mailboxId(s.store, 'bob@c.test', 'INBOX');
  const got = (await bob.get<MessagePage>(`/api/folders/${bobInbox}/messages`)).items.find((m) => m.messageIdHeader === sent.messageIdHeader)!;
  assert.ok(got);
  const raw = await (await bob.request('GET', `/api/messages/${got.id}/raw`)).text();
  const boundary = /^Content-Type: multipart\/alternative;\s*boundary="?([^"\r\n;]+)"?/im.exec(raw)?.[1];
  assert.ok(boundary, 'multipart/alternative at the top');
  const parts = raw.split(`--${boundary}`).slice(1, -1);
  assert.equal(parts.length, 2);
  const decode = (part: string): string => {
    const [head, ...rest] = part.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n');
    if (/Content-Transfer-Encoding: quoted-printable/i.test(head!)) return Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
    if (/Content-Transfer-Encoding: base64/i.test(head!)) return Buffer.from(body, 'base64').toString('utf8');
    return body;
  };
  assert.match(parts[0]!, /^\r\nContent-Type: text\/plain/i);
  assert.match(parts[1]!, /^\r\nContent-Type: text\/html/i);
  const text = decode(parts[0]!);
  const html = decode(parts[1]!);
  assert.match(text, /Hi Bob, see the plan <https:\/\/example\.org\/x>\./);
  assert.match(text, /- one\r?\n- two/);
  assert.match(text, /> quoted line/);
  assert.doesNotMatch(text, /ignored|<b>/);
  assert.match(html, /<b>Bob<\/b>/);
  assert.match(html, /<u>line<\/u>/);
  assert.doesNotMatch(html, /<script|alert|onerror|onclick|steal/i, 'no script survives');
});
