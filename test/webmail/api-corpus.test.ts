// The hostile and malformed corpus (test/webmail/corpus/ plus generated monsters): every
// message opens through the API without an error, and nothing in the sanitised HTML can
// run a script, submit a form, frame a page or load anything remote.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'htmlparser2';
import { isTag, type ChildNode, type Element } from 'domhandler';

const isElement = (n: ChildNode): n is Element => isTag(n);
import { Client, mailboxId, putMessage, startApiServer, type ApiServer } from './api-harness.js';
import type { MessageDetail } from '../../src/http/api/types.js';

const CORPUS = join(import.meta.dirname, 'corpus');

let s: ApiServer;
let c: Client;
let inbox: number;
before(async () => {
  s = await startApiServer({ 'victim@api.test': 'pw-victim' });
  c = await Client.login(s.base, 'victim@api.test', 'pw-victim');
  inbox = await mailboxId(s.store, 'victim@api.test', 'INBOX');
});
after(async () => {
  await s.close();
});

const FORBIDDEN_TAGS = new Set([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input', 'button', 'select', 'textarea', 'option',
  'meta', 'base', 'link', 'svg', 'math', 'video', 'audio', 'source', 'track', 'template', 'noscript', 'xmp', 'marquee', 'isindex',
  'html', 'head', 'body', 'title', 'portal', 'dialog', 'slot', 'use', 'animate', 'set', 'foreignobject', 'image', 'canvas', 'param',
]);
const DANGEROUS_CSS = /url\s*\(|image-set|expression|behavior|binding|@import|@font-face|javascript|\\/i;

/** Every way the sanitised HTML could run or load something; [] when there is none. */
function problems(html: string, allowRemote: boolean): string[] {
  const out: string[] = [];
  const walk = (nodes: ChildNode[]): void => {
    for (const n of nodes) {
      if (isElement(n)) {
        const el = n;
        const name = el.name.toLowerCase();
        if (name === 'style') {
          const css = el.children.map((ch) => ('data' in ch ? String(ch.data) : '')).join('');
          if (DANGEROUS_CSS.test(css)) out.push(`style sheet: ${css.slice(0, 200)}`);
        } else if (FORBIDDEN_TAGS.has(name)) out.push(`<${name}>`);
        for (const [attr, value] of Object.entries(el.attribs)) {
          const a = attr.toLowerCase();
          // eslint-disable-next-line no-control-regex
          const v = value.replace(/[\s\x00-\x1f]/g, '').toLowerCase();
          if (a.startsWith('on')) out.push(`${name} ${a}=`);
          if (['formaction', 'action', 'srcdoc', 'srcset', 'background', 'xlink:href', 'data', 'poster', 'lowsrc', 'dynsrc', 'ping'].includes(a)) out.push(`${name} ${a}=`);
          if (a === 'href' && !/^(https?:|mailto:|#)/.test(v)) out.push(`${name} href=${value}`);
          if (a === 'src') {
            const ok = v.startsWith('data:image/gif;') || v.startsWith('data:image/png;') || v.startsWith('data:image/jpeg;') || v.startsWith('/api/messages/') || (allowRemote && /^https?:/.test(v));
            if (!ok) out.push(`${name} src=${value.slice(0, 100)}`);
          }
          if (a === 'style' && DANGEROUS_CSS.test(value)) out.push(`${name} style=${value}`);
          if (a !== 'href' && /evil\.test/.test(v)) out.push(`${name} ${a} points to evil.test`);
        }
      }
      if ('children' in n) walk(n.children);
    }
  };
  walk(parseDocument(html, { lowerCaseTags: true, lowerCaseAttributeNames: true }).children);
  if (/<script/i.test(html)) out.push('literal <script');
  return out;
}

/** Opens one message every way the webmail does and checks each answer. */
async function openAll(name: string, raw: Buffer): Promise<MessageDetail> {
  const put = await putMessage(s.store, inbox, raw);
  const id = `${inbox}.${put.uid}`;
  const res = await c.request('GET', `/api/messages/${id}`);
  assert.equal(res.status, 200, `${name}: detail`);
  const d = (await res.json()) as MessageDetail;
  if (d.html !== null) assert.deepEqual(problems(d.html, false), [], `${name}: sanitised html`);
  const body = await fetch(s.base + d.htmlUrl!);
  assert.equal(body.status, 200, `${name}: body`);
  assert.match(body.headers.get('content-security-policy') ?? '', /default-src 'none';.*sandbox/, `${name}: csp`);
  const doc = await body.text();
  assert.deepEqual(problems(doc.replace(/^<!doctype html><html><head><meta charset="utf-8"><base target="_blank">/, ''), false).filter((p) => p !== '<html>' && p !== '<head>' && p !== '<body>'), [], `${name}: body document`);
  const withImages = await c.request('GET', `/api/messages/${id}?images=1&markSeen=0`);
  assert.equal(withImages.status, 200, `${name}: images=1`);
  const d2 = (await withImages.json()) as MessageDetail;
  if (d2.html !== null) assert.deepEqual(problems(d2.html, true).filter((p) => !p.includes('points to evil.test')), [], `${name}: html with images`);
  assert.equal((await c.request('GET', d.rawUrl)).status, 200, `${name}: raw`);
  for (const a of d.attachments) {
    const r = await c.request('GET', a.url);
    assert.equal(r.status, 200, `${name}: attachment ${a.partId}`);
    await r.arrayBuffer();
  }
  return d;
}

const lf2crlf = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

for (const file of readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort()) {
  test(`corpus: ${file} opens, with nothing that runs or loads`, async () => {
    const d = await openAll(file, lf2crlf(readFileSync(join(CORPUS, file))));
    assert.ok(d.html !== null || d.text !== null, 'something is shown');
  });
}

test('corpus details: visible text survives, charsets decode, broken parts still show', async () => {
  const read = async (file: string) => openAll(file, lf2crlf(readFileSync(join(CORPUS, file))));
  assert.match((await read('xss-vectors.eml')).html!, /Visible text stays\.[\s\S]*End\./);
  const css = await read('css-exfiltration.eml');
  assert.match(css.html!, /color:\s*green/);
  assert.match(css.html!, /\.ok\s*\{\s*color:\s*blue/);
  assert.match((await read('legacy-charsets.eml')).text!, /こんにちは/);
  assert.match((await read('legacy-charsets.eml')).html!, /Привет/);
  const jp = await read('iso-2022-jp.eml');
  assert.match(jp.text!, /こんにちは/);
  assert.match(jp.headers.subject, /てすと/);
  assert.match((await read('utf16.eml')).html!, /UTF-16 text é/);
  const unknown = await read('unknown-charset.eml');
  assert.match(unknown.text!, /Bytes: äöü/);
  const broken = await read('broken-mime.eml');
  assert.match(broken.text ?? '', /not really a part/);
  const fwd = await read('rfc822-attached.eml');
  assert.equal(fwd.attachments.length, 1);
  assert.equal(fwd.attachments[0]!.filename, 'inner 😈.eml');
});

test('a 20 MB attachment opens fast and downloads intact', async () => {
  const bytes = Buffer.alloc(20 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
  const b64 = bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
  const raw = Buffer.from(
    `From: big@example.test\r\nTo: victim@api.test\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\nContent-Type: text/plain\r\n\r\nA large file.\r\n--big\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--big--\r\n`,
  );
  const started = Date.now();
  const d = await openAll('20 MB attachment', raw);
  assert.equal(d.text?.trim(), 'A large file.');
  const att = d.attachments.find((a) => a.filename === 'big.bin')!;
  assert.ok(Math.abs(att.size - bytes.length) < bytes.length * 0.01, `size estimate ${att.size}`);
  const dl = Buffer.from(await (await c.request('GET', att.url)).arrayBuffer());
  assert.equal(createHash('sha256').update(dl).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
  assert.ok(Date.now() - started < 20_000);
});

test('generated monsters: empty, random bytes, 300-deep nesting, 3 MB of HTML, a 1 MB header line', async () => {
  let seed = 42;
  const random = Buffer.alloc(64 * 1024);
  for (let i = 0; i < random.length; i++) random[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  let nested = 'Subject: nested\r\nContent-Type: multipart/mixed; boundary=n0\r\n\r\n';
  for (let i = 1; i < 300; i++) nested += `--n${i - 1}\r\nContent-Type: multipart/mixed; boundary=n${i}\r\n\r\n`;
  nested += `--n299\r\nContent-Type: text/html\r\n\r\n<img src=x onerror=alert(1)>deep\r\n`;
  const bigHtml = `Subject: huge html\r\nContent-Type: text/html\r\n\r\n${'<p onclick="alert(1)">word word word</p>\r\n'.repeat(80_000)}`;
  const longHeader = `Subject: ${'x'.repeat(1024 * 1024)}\r\nContent-Type: text/plain\r\n\r\nbody after a long header\r\n`;
  const cases: Array<[string, Buffer]> = [
    ['random bytes', random],
    ['nested 300 deep', Buffer.from(nested)],
    ['3 MB of html', Buffer.from(bigHtml)],
    ['1 MB header line', Buffer.from(longHeader)],
    ['only a newline', Buffer.from('\r\n')],
  ];
  for (const [name, raw] of cases) {
    const d = await openAll(name, raw);
    if (name === '3 MB of html') assert.match(d.notice ?? '', /very long/, 'cut with a notice');
    if (name === 'random bytes') assert.ok(d.text !== null);
  }
});
