// Random and mutated messages: indexing must never throw, every offset must stay
// inside the message, and the IMAP strings must parse back as IMAP syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSubject, decodeMimeWords, extractText, formatBodyStructure, formatEnvelope, indexMessage, parseAddressList, parseDate, resolveSection, type MimePart } from './index.js';
import { assertOffsets } from './test-fixtures.js';

/** mulberry32: a small seeded PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEADER_SNIPPETS = [
  'Subject: =?utf-8?q?caf=C3=A9?= Re: [x] hi',
  'Subject: =?iso-2022-jp?B?GyRCJEYkOSRIGyhC?=',
  'From: "Doe, J" <j@x.test>',
  'From: undisclosed:;',
  'To: a@b, <@r:c@d>, g: e@f;, broken <',
  'Cc: "unterminated',
  'Date: Fri, 21 Nov 97 09:55 EST',
  'Date: nonsense',
  'Message-ID: <id@x>',
  'Content-Transfer-Encoding: base64',
  'Content-Transfer-Encoding: quoted-printable',
  "Content-Disposition: attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC",
  'Content-Language: en, (c) fr',
  'Content-Type: text/html; charset=koi8-r',
  'Content-Type: text/plain; charset=x-unknown',
  'Content-Type: message/rfc822',
  'Content-Type: message/global',
  'Content-Type: application/octet-stream; name="a\\"b"',
  'Content-Type: multipart/digest; boundary=d',
  'X-8bit: \u00e9\u00e8',
  '  continuation without field',
  'no colon line',
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function genPart(r: () => number, depth: number, nl: () => string): string {
  const headers: string[] = [];
  for (let i = Math.floor(r() * 4); i > 0; i--) headers.push(pick(r, HEADER_SNIPPETS));
  const kind = depth > 4 ? 3 : Math.floor(r() * 4);
  if (kind === 0) {
    const b = `b${Math.floor(r() * 1000)}`;
    headers.push(`Content-Type: multipart/${pick(r, ['mixed', 'alternative', 'digest', 'related'])}; boundary="${b}"`);
    let s = headers.join(nl()) + nl() + nl() + (r() < 0.3 ? 'preamble' + nl() : '');
    for (let i = Math.floor(r() * 4); i >= 0; i--) s += `--${b}${nl()}${genPart(r, depth + 1, nl)}${nl()}`;
    if (r() < 0.8) s += `--${b}--${nl()}`;
    return s + (r() < 0.3 ? 'epilogue' : '');
  }
  if (kind === 1) {
    headers.push(pick(r, ['Content-Type: message/rfc822', 'Content-Type: message/global']));
    return headers.join(nl()) + nl() + nl() + genPart(r, depth + 1, nl);
  }
  const lines: string[] = [];
  for (let i = Math.floor(r() * 5); i > 0; i--) lines.push(pick(r, ['plain text', 'caf=E9 =\r', 'SGVsbG8=', '<p>html &amp;</p>', '\u00e9\u00e8', '--b1', '']));
  return headers.join(nl()) + nl() + nl() + lines.join(nl());
}

function mutate(r: () => number, buf: Buffer): Buffer {
  const bytes = [...buf];
  for (let i = Math.floor(r() * 6); i > 0; i--) {
    const at = Math.floor(r() * (bytes.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0:
        bytes[at] = Math.floor(r() * 256);
        break;
      case 1:
        bytes.splice(at, Math.floor(r() * 20));
        break;
      case 2:
        bytes.splice(at, 0, ...Buffer.from(pick(r, ['\r\n--b1\r\n', '\n\n', '\0', '--b2--', '=?utf-8?b?', '"', '(', '<', ';', '\r'])));
        break;
      case 3:
        bytes.length = at;
        break;
      case 4:
        bytes.splice(at, 0, ...bytes.slice(Math.floor(r() * bytes.length), Math.floor(r() * bytes.length)));
        break;
      default:
        bytes.splice(at, 0, 0x0a);
    }
  }
  return Buffer.from(bytes);
}

/** Parses IMAP syntax (lists, quoted strings, literals, atoms) and fails on anything malformed. */
function parseImap(s: string): void {
  const b = Buffer.from(s, 'utf8');
  let i = 0;
  let depth = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === 0x28) {
      depth++;
      i++;
    } else if (c === 0x29) {
      depth--;
      assert.ok(depth >= 0, 'unbalanced )');
      i++;
    } else if (c === 0x20) {
      i++;
    } else if (c === 0x22) {
      i++;
      while (b[i] !== 0x22) {
        assert.ok(i < b.length, 'unterminated quoted string');
        const q = b[i] as number;
        assert.ok(q !== 0x0d && q !== 0x0a && q !== 0 && q < 0x80, 'bad char in quoted string');
        i += q === 0x5c ? 2 : 1;
      }
      i++;
    } else if (c === 0x7b) {
      const close = b.indexOf('}', i);
      const n = Number(b.toString('latin1', i + 1, close));
      assert.ok(Number.isInteger(n), 'bad literal length');
      assert.equal(b.toString('latin1', close + 1, close + 3), '\r\n');
      assert.ok(!b.subarray(close + 3, close + 3 + n).includes(0), 'NUL in literal');
      i = close + 3 + n;
      assert.ok(i <= b.length, 'literal runs past the end');
    } else {
      const start = i;
      while (i < b.length && b[i] !== 0x20 && b[i] !== 0x28 && b[i] !== 0x29) i++;
      assert.match(b.toString('latin1', start, i), /^(NIL|\d+)$/);
    }
  }
  assert.equal(depth, 0, 'unbalanced (');
}

function paths(p: MimePart, prefix: number[], out: number[][]): void {
  const kids = p.message !== null ? (p.message.root.type === 'multipart' ? p.message.root.children : [p.message.root]) : p.children;
  kids.forEach((k, i) => {
    const path = [...prefix, i + 1];
    out.push(path);
    if (path.length < 8) paths(k, path, out);
  });
}

function check(raw: Buffer, seed: number, r: () => number): void {
  const small = r() < 0.2;
  const idx = indexMessage(raw, small ? { maxDepth: 2, maxParts: 5, maxHeaderBytes: 64 } : undefined);
  // The safety net in indexMessage must never be what kept it from throwing.
  assert.equal(idx.error, null, `seed ${seed}: ${idx.error}`);
  assert.equal(idx.size, raw.length);
  assert.equal(assertOffsets(raw, idx.root), idx.partCount, `seed ${seed}`);
  parseImap(formatBodyStructure(idx, true));
  parseImap(formatBodyStructure(idx, false));
  parseImap(formatEnvelope(idx));
  const all: number[][] = [[]];
  if (idx.root.type === 'multipart') idx.root.children.forEach((_, i) => all.push([i + 1]));
  paths(idx.root, [], all);
  all.push([1], [1, 1], [99], [2, 3, 4]);
  for (const path of all) {
    const s = resolveSection(idx, path);
    if (s === null) continue;
    for (const range of [s.body, s.mime, s.header, s.text]) {
      if (range === null) continue;
      assert.ok(range[0] >= 0 && range[0] <= range[1] && range[1] <= raw.length, `seed ${seed} path ${path.join('.')}`);
    }
  }
  const maxBytes = Math.floor(r() * 400);
  const t = extractText(raw, idx, { maxBytes });
  assert.ok(Buffer.byteLength(t.headers) + Buffer.byteLength(t.body) <= maxBytes, `seed ${seed}`);
  if (seed % 10 === 0) assert.deepEqual(JSON.parse(JSON.stringify(idx)), idx);
}

test('fuzz: generated and mutated messages', () => {
  for (let seed = 1; seed <= 1200; seed++) {
    const r = rng(seed);
    const mixed = r() < 0.5;
    const nl = (): string => (mixed ? (r() < 0.5 ? '\r\n' : '\n') : '\r\n');
    let raw: Buffer = Buffer.from(genPart(r, 0, nl), 'utf8');
    if (r() < 0.7) raw = mutate(r, raw);
    check(raw, seed, r);
  }
});

test('fuzz: random bytes', () => {
  const alphabet = Buffer.from('ab:; \r\n\r\n--b\0"()<>@,=?\\\x80\xff\t');
  for (let seed = 10_001; seed <= 10_800; seed++) {
    const r = rng(seed);
    const len = Math.floor(r() * 600);
    const raw = Buffer.alloc(len);
    const fromAlphabet = r() < 0.7;
    for (let i = 0; i < len; i++) raw[i] = fromAlphabet ? (alphabet[Math.floor(r() * alphabet.length)] as number) : Math.floor(r() * 256);
    check(raw, seed, r);
  }
});

test('hostile header values stay linear', () => {
  // Each of these took minutes with a quadratic scan; linear code needs milliseconds.
  const started = Date.now();
  baseSubject('[a]'.repeat(30_000));
  baseSubject('Re: '.repeat(30_000) + 'x');
  baseSubject('[fwd: '.repeat(20_000) + 'x' + ']'.repeat(20_000));
  parseAddressList('a@b '.repeat(25_000));
  parseAddressList('<@a,'.repeat(25_000));
  parseAddressList('"'.repeat(100_000));
  decodeMimeWords('=?utf-8?q?a?= '.repeat(10_000));
  parseDate('1 '.repeat(50_000));
  indexMessage(Buffer.from(`Content-Type: text/plain; ${'a*1*=x; '.repeat(20_000)}\r\n\r\nx`));
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});
