// Folders, the message list, reading (sanitised HTML, charsets, cid images, attachments,
// raw source) and the actions, over HTTP against the real server and store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { BulkResponse, Folder, FolderListResponse, MessageDetail, MessagePage } from '../../src/http/api/types.js';
import { loseBlob } from '../blob-damage.js';

let s: ApiServer;
let c: Client;
before(async () => {
  s = await startApiServer({ 'reader@api.test': 'pw-reader' });
  c = await Client.login(s.base, 'reader@api.test', 'pw-reader');
});
after(async () => {
  await s.close();
});

const folder = async (name: string): Promise<Folder> => {
  const list = await c.get<FolderListResponse>('/api/folders');
  const f = list.folders.find((x) => x.name === name);
  if (!f) throw new Error(`no folder ${name}`);
  return f;
};

test('folders: special-use first with counts; create nested, rename, delete; INBOX and special folders are protected', async () => {
  const inbox = await mailboxId(s.store, 'reader@api.test', 'INBOX');
  await putMessage(s.store, inbox, 'Subject: one\n\nx\n');
  await putMessage(s.store, inbox, 'Subject: two\n\nx\n', { flags: ['\\Seen'] });
  const list = await c.get<FolderListResponse>('/api/folders');
  assert.deepEqual(list.folders.slice(0, 6).map((f) => f.specialUse), ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash']);
  const ib = list.folders[0]!;
  assert.equal(ib.total, 2);
  assert.equal(ib.unread, 1);

  const res = await c.request('POST', '/api/folders', { name: 'Projects/2026/Q1' });
  assert.equal(res.status, 201);
  const names = (await c.get<FolderListResponse>('/api/folders')).folders.map((f) => f.name);
  for (const n of ['Projects', 'Projects/2026', 'Projects/2026/Q1']) assert.ok(names.includes(n), n);
  const q1 = await folder('Projects/2026/Q1');
  assert.equal(q1.parent, 'Projects/2026');
  assert.equal(q1.displayName, 'Q1');
  assert.equal((await c.request('POST', '/api/folders', { name: 'Projects' })).status, 409);
  assert.equal((await c.request('POST', '/api/folders', { name: 'a//b' })).status, 400);
  assert.equal((await c.request('POST', '/api/folders', { name: 'bad\r\nname' })).status, 400);

  const projects = await folder('Projects');
  const renamed = await c.json<Folder>('PATCH', `/api/folders/${projects.id}`, { name: 'Work' });
  assert.equal(renamed.name, 'Work');
  assert.ok((await c.get<FolderListResponse>('/api/folders')).folders.some((f) => f.name === 'Work/2026/Q1'), 'children move along');
  assert.equal((await c.request('DELETE', `/api/folders/${ib.id}`)).status, 400);
  const trash = await folder('Trash');
  assert.equal((await c.request('DELETE', `/api/folders/${trash.id}`)).status, 400);
  assert.equal((await c.request('PATCH', `/api/folders/${trash.id}`, { name: 'Bin' })).status, 400);
  assert.equal((await c.request('DELETE', `/api/folders/${renamed.id}`)).status, 200);
  assert.ok(!(await c.get<FolderListResponse>('/api/folders')).folders.some((f) => f.name.startsWith('Work')), 'children deleted too');
});

test('message list: pages, sorts, filters, totals and thread grouping', async () => {
  const box = (await c.json<Folder>('POST', '/api/folders', { name: 'Listing' })).id;
  const id = Number(box);
  const base = Date.UTC(2026, 2, 1);
  for (let i = 0; i < 30; i++) {
    const ref = i > 0 && i % 10 === 0 ? `In-Reply-To: <m0@x>\nReferences: <m0@x>\n` : '';
    await putMessage(s.store, id, `From: "User ${String.fromCharCode(97 + (i % 26))}" <u${i}@x.test>\nSubject: msg ${String(i).padStart(2, '0')}\nMessage-ID: <m${i}@x>\n${ref}\n${'y'.repeat(i * 10)}\n`, {
      date: new Date(base + i * 60_000),
      flags: i % 3 === 0 ? ['\\Seen'] : [],
    });
  }
  const p1 = await c.get<MessagePage>(`/api/folders/${box}/messages?limit=10`);
  assert.equal(p1.total, 30);
  assert.equal(p1.items.length, 10);
  assert.equal(p1.items[0]!.subject, 'msg 29', 'newest first');
  const p3 = await c.get<MessagePage>(`/api/folders/${box}/messages?limit=10&offset=20`);
  assert.equal(p3.items[9]!.subject, 'msg 00');
  const bySubject = await c.get<MessagePage>(`/api/folders/${box}/messages?sort=subject&order=asc&limit=3`);
  assert.deepEqual(bySubject.items.map((m) => m.subject), ['msg 00', 'msg 01', 'msg 02']);
  const bySize = await c.get<MessagePage>(`/api/folders/${box}/messages?sort=size&order=desc&limit=1`);
  assert.equal(bySize.items[0]!.subject, 'msg 29');
  const byFrom = await c.get<MessagePage>(`/api/folders/${box}/messages?sort=from&order=asc&limit=2`);
  assert.deepEqual(byFrom.items.map((m) => m.from[0]!.name), ['User a', 'User a']);
  const unread = await c.get<MessagePage>(`/api/folders/${box}/messages?unread=1&limit=100`);
  assert.equal(unread.total, 20);
  assert.ok(unread.items.every((m) => !m.flags.includes('seen')));
  const threaded = await c.get<MessagePage>(`/api/folders/${box}/messages?threads=1&limit=100&order=asc`);
  const head = threaded.items.findIndex((m) => m.subject === 'msg 00');
  assert.deepEqual(threaded.items.slice(head, head + 3).map((m) => [m.subject, m.threadDepth]), [['msg 00', 0], ['msg 10', 1], ['msg 20', 1]]);
  assert.equal(threaded.threads, 28);
  assert.equal((await c.request('GET', `/api/folders/${box}/messages?sort=evil`)).status, 400);
  assert.equal((await c.request('GET', `/api/folders/${box}/messages?limit=abc`)).status, 400);
});

test('threads span the whole folder: a thread spread over several pages is listed together, in order, across page boundaries', async () => {
  const box = (await c.json<Folder>('POST', '/api/folders', { name: 'Threads' })).id;
  const id = Number(box);
  const base = Date.UTC(2026, 0, 1);
  // 240 messages, one a minute; the thread's messages are at positions 0, 80, 160 and 239
  // (newest), so by date alone they sit on four different pages of 50.
  const thread: Record<number, string> = {
    0: 'Message-ID: <root@t>\n',
    80: 'Message-ID: <r1@t>\nIn-Reply-To: <root@t>\nReferences: <root@t>\n',
    160: 'Message-ID: <r2@t>\nIn-Reply-To: <r1@t>\nReferences: <root@t> <r1@t>\n',
    // Its parent (<gone@t>) is not in the folder: References still tie it to the thread.
    239: 'Message-ID: <r3@t>\nIn-Reply-To: <gone@t>\nReferences: <root@t> <gone@t>\n',
  };
  for (let i = 0; i < 240; i++) {
    const headers = thread[i] ?? `Message-ID: <solo${i}@t>\n`;
    await putMessage(s.store, id, `From: a@x.test\nSubject: ${i in thread ? 'plan' : `solo ${i}`}\n${headers}\nbody\n`, { date: new Date(base + i * 60_000) });
  }
  const flat: string[] = [];
  for (let offset = 0; offset < 240; offset += 50) flat.push(...(await c.get<MessagePage>(`/api/folders/${box}/messages?limit=50&offset=${offset}`)).items.map((m) => m.subject));
  const pagesOf = [0, 1, 2, 3, 4].filter((p) => flat.slice(p * 50, p * 50 + 50).includes('plan'));
  assert.ok(pagesOf.length >= 3, 'unthreaded, the thread is spread over several pages');

  const first = await c.get<MessagePage>(`/api/folders/${box}/messages?threads=1&limit=2`);
  assert.equal(first.total, 240);
  assert.equal(first.threads, 237, '236 single messages and one thread of four');
  const second = await c.get<MessagePage>(`/api/folders/${box}/messages?threads=1&limit=2&offset=2`);
  const rows = [...first.items, ...second.items];
  // Newest activity first: the thread's newest message is the folder's newest.
  assert.deepEqual(
    rows.map((m) => [m.messageIdHeader, m.threadDepth]),
    [['<root@t>', 0], ['<r1@t>', 1], ['<r2@t>', 2], ['<r3@t>', 1]],
  );
  assert.equal(new Set(rows.map((m) => m.threadId)).size, 1);
  assert.equal(rows[0]!.threadId, '<root@t>');
  const third = await c.get<MessagePage>(`/api/folders/${box}/messages?threads=1&limit=1&offset=4`);
  assert.equal(third.items[0]!.subject, 'solo 238', 'the next thread follows');
  // Every message is listed exactly once when paging through the threaded folder.
  const all: string[] = [];
  for (let offset = 0; offset < 240; offset += 70) all.push(...(await c.get<MessagePage>(`/api/folders/${box}/messages?threads=1&limit=70&offset=${offset}`)).items.map((m) => m.id));
  assert.equal(all.length, 240);
  assert.equal(new Set(all).size, 240);
  // Ascending: the thread sorts by its newest message, so it comes last.
  const asc = await c.get<MessagePage>(`/api/folders/${box}/messages?threads=1&order=asc&limit=4&offset=236`);
  assert.deepEqual(asc.items.map((m) => m.messageIdHeader), ['<root@t>', '<r1@t>', '<r2@t>', '<r3@t>']);
});

const HTML_MESSAGE = [
  'From: =?iso-8859-1?q?J=FCrgen?= <j@x.test>',
  'To: reader@api.test',
  'Subject: =?utf-8?b?w4RwZmVs?=',
  'Message-ID: <html1@x.test>',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/related; boundary="rel"',
  '',
  '--rel',
  'Content-Type: text/html; charset=windows-1252',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><head><meta http-equiv=3D"refresh" content=3D"0;url=3Dhttp://evil.test/"><script>alert(1)</script></head>',
  '<body onload=3D"alert(2)"><p style=3D"color:red;background:url(http://evil.test/t)">Gr=FC=DFe =80</p>',
  '<img src=3D"http://tracker.test/p.gif"><img src=3D"cid:logo@x"><a href=3D"javascript:alert(3)">j</a>',
  '<form action=3D"http://evil.test"><input name=3Dp></form></body></html>',
  '--rel',
  'Content-Type: image/png',
  'Content-ID: <logo@x>',
  'Content-Transfer-Encoding: base64',
  '',
  'iVBORw0KGgo=',
  '--rel--',
  '--outer',
  'Content-Type: application/pdf',
  "Content-Disposition: attachment; filename*=utf-8''R%C3%A9sum%C3%A9%20%E2%82%AC.pdf",
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQK',
  '--outer',
  'Content-Type: text/plain; name="=?koi8-r?b?8NLJ18XU?=.txt"',
  'Content-Disposition: attachment',
  '',
  'hello',
  '--outer--',
  '',
].join('\n');

test('reading: sanitised HTML, remote images blocked unless allowed, charsets, cid images, attachments, raw', async () => {
  const inbox = await mailboxId(s.store, 'reader@api.test', 'INBOX');
  const put = await putMessage(s.store, inbox, HTML_MESSAGE);
  const mid = `${inbox}.${put.uid}`;
  const d = await c.get<MessageDetail>(`/api/messages/${mid}`);
  assert.equal(d.headers.subject, 'Äpfel');
  assert.equal(d.headers.from[0]!.name, 'Jürgen');
  assert.equal(d.notice, null);
  assert.equal(d.rawFallback, false);
  assert.ok(d.summary.flags.includes('seen'), 'opening marks it read');
  const html = d.html!;
  assert.match(html, /Grüße €/, 'windows-1252 decoded, 0x80 is the euro sign');
  for (const bad of [/<script/i, /onload/i, /onclick/i, /javascript:/i, /<form/i, /<input/i, /<meta/i, /refresh/i, /url\(/i, /evil\.test/, /tracker\.test/]) {
    assert.doesNotMatch(html, bad);
  }
  assert.equal(d.blockedRemoteImages, 1);
  assert.match(html, /data-blocked="remote"/);
  const cid = /src="(\/api\/messages\/[^"]+\/cid\/[^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(cid, 'the cid image points to the message part');
  // The capability URL works without the cookie (a sandboxed iframe may not send it).
  const img = await fetch(s.base + cid);
  assert.equal(img.status, 200);
  assert.equal(img.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await img.arrayBuffer()), Buffer.from('iVBORw0KGgo=', 'base64'));
  const tampered = await fetch(s.base + cid.replace(/t=[^&]+/, 't=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
  assert.equal(tampered.status, 404);

  const allowed = await c.get<MessageDetail>(`/api/messages/${mid}?images=1`);
  assert.equal(allowed.blockedRemoteImages, 0);
  assert.match(allowed.html!, /http:\/\/tracker\.test\/p\.gif/);

  // The iframe document: strict CSP, sandboxed, no script.
  const body = await fetch(s.base + d.htmlUrl!);
  assert.equal(body.status, 200);
  const csp = body.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /sandbox/);
  assert.doesNotMatch(csp, /script-src/);
  assert.doesNotMatch(csp, /img-src[^;]*https:/, 'no remote images without images=1');
  assert.equal(body.headers.get('x-content-type-options'), 'nosniff');
  const doc = await body.text();
  assert.doesNotMatch(doc, /<script/i);
  assert.match(doc, /Grüße/);

  // Attachments: names from RFC 2231 and RFC 2047, correct Content-Disposition.
  const pdf = d.attachments.find((a) => a.contentType === 'application/pdf')!;
  assert.equal(pdf.filename, 'Résumé €.pdf');
  const txt = d.attachments.find((a) => a.contentType === 'text/plain')!;
  assert.equal(txt.filename, 'Привет.txt');
  const logo = d.attachments.find((a) => a.contentId === 'logo@x')!;
  assert.equal(logo.inline, true);
  const dl = await c.request('GET', pdf.url);
  assert.equal(dl.status, 200);
  assert.equal(dl.headers.get('content-disposition'), `attachment; filename="R_sum_ _.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%82%AC.pdf`);
  assert.equal(Buffer.from(await dl.arrayBuffer()).toString(), '%PDF-1.4\n');
  // An HTML attachment is never served as a page of this origin.
  const raw = await c.request('GET', d.rawUrl);
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-type'), 'message/rfc822');
  assert.equal((await raw.text()).replace(/\r\n/g, '\n'), HTML_MESSAGE);
  const view = await c.request('GET', `${d.rawUrl}?view=1`);
  assert.match(view.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal((await c.request('GET', `/api/messages/${mid}/parts/9`)).status, 404);
  assert.equal((await c.request('GET', `/api/messages/${mid}/parts/..%2F1`)).status, 404);
});

test('an HTML attachment downloads as an attachment with a sandbox CSP', async () => {
  const inbox = await mailboxId(s.store, 'reader@api.test', 'INBOX');
  const put = await putMessage(s.store, inbox, 'Subject: h\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee\n--b\nContent-Type: text/html\nContent-Disposition: attachment; filename=page.html\n\n<script>alert(1)</script>\n--b--\n');
  const d = await c.get<MessageDetail>(`/api/messages/${inbox}.${put.uid}`);
  const a = d.attachments.find((x) => x.filename === 'page.html')!;
  for (const url of [a.url, `${a.url}?inline=1`]) {
    const r = await c.request('GET', url);
    assert.match(r.headers.get('content-disposition') ?? '', /^attachment;/);
    assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  }
});

test('actions: flags, move, delete to Trash, delete for good in Trash, empty Trash, junk', async () => {
  const inbox = await mailboxId(s.store, 'reader@api.test', 'INBOX');
  const box = (await c.json<Folder>('POST', '/api/folders', { name: 'Acts' })).id;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(`${box}.${(await putMessage(s.store, Number(box), `Subject: act ${i}\n\nx\n`)).uid}`);
  assert.deepEqual(await c.post('/api/messages/flags', { ids: ids.slice(0, 2), add: ['seen', 'flagged'], addKeywords: ['$Important'] }), { count: 2 });
  let page = await c.get<MessagePage>(`/api/folders/${box}/messages?order=asc`);
  assert.deepEqual(page.items[0]!.flags.sort(), ['flagged', 'seen']);
  assert.deepEqual(page.items[0]!.keywords, ['$Important']);
  await c.post('/api/messages/flags', { ids: [ids[0]], remove: ['seen'] });
  page = await c.get<MessagePage>(`/api/folders/${box}/messages?order=asc`);
  assert.deepEqual(page.items[0]!.flags, ['flagged']);
  assert.equal((await c.request('POST', '/api/messages/flags', { ids, add: ['\\Deleted'] })).status, 400);
  assert.equal((await c.request('POST', '/api/messages/flags', { ids, addKeywords: ['bad keyword'] })).status, 400);

  const moved = await c.post<BulkResponse>('/api/messages/move', { ids: [ids[0]], folderId: String(inbox) });
  assert.equal(moved.count, 1);
  assert.match(moved.moved![0]!.to, new RegExp(`^${inbox}\\.`));

  const trash = await folder('Trash');
  const del = await c.post<BulkResponse>('/api/messages/delete', { ids: [ids[1]] });
  assert.equal(del.count, 1);
  assert.equal((await folder('Trash')).total, trash.total + 1);
  const inTrash = del.moved![0]!.to;
  assert.equal((await c.post<BulkResponse>('/api/messages/delete', { ids: [inTrash] })).count, 1, 'deleted for good from Trash');
  assert.equal((await folder('Trash')).total, trash.total);
  await c.post('/api/messages/delete', { ids: [ids[2]] });
  const emptied = await c.post<{ removed: number }>(`/api/folders/${trash.id}/empty`);
  assert.ok(emptied.removed >= 1);
  assert.equal((await folder('Trash')).total, 0);
  assert.equal((await c.request('POST', `/api/folders/${box}/empty`)).status, 400, 'only Trash and Junk');
  const audit = await s.store.listAudit({ limit: 50 });
  assert.ok(audit.some((e) => e.actor === 'webmail:reader@api.test'), 'removals are audited');

  const junk = await c.post<BulkResponse>('/api/messages/junk', { ids: [ids[3]], junk: true });
  assert.equal(junk.count, 1);
  const junkBox = await folder('Junk');
  const jp = await c.get<MessagePage>(`/api/folders/${junkBox.id}/messages`);
  assert.ok(jp.items[0]!.keywords.includes('$Junk'));
  const back = await c.post<BulkResponse>('/api/messages/junk', { ids: [jp.items[0]!.id], junk: false });
  assert.equal(back.count, 1);
  const [meta] = await s.store.getMessages(inbox, [Number(back.moved![0]!.to.split('.')[1])]);
  assert.deepEqual(meta!.keywords, ['$NotJunk']);
});

test('a message whose content is missing from the store still opens, with a notice; downloads answer 503', async () => {
  const inbox = await mailboxId(s.store, 'reader@api.test', 'INBOX');
  const put = await putMessage(s.store, inbox, 'Subject: vanished\n\nunique body 7f3a\n');
  const [meta] = await s.store.getMessages(inbox, [put.uid]);
  assert.ok(await loseBlob(s.dataDir, meta!.blobId));
  const res = await c.request('GET', `/api/messages/${inbox}.${put.uid}`);
  assert.equal(res.status, 200);
  const d = (await res.json()) as MessageDetail;
  assert.equal(d.headers.subject, 'vanished');
  assert.match(d.notice ?? '', /cannot be read/);
  const raw = await c.request('GET', d.rawUrl);
  assert.equal(raw.status, 503);
  const body = await c.request('GET', `/api/messages/${inbox}.${put.uid}/body`);
  assert.equal(body.status, 503);
});
