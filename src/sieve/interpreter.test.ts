// The interpreter, one extension at a time, on real message bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileScript, type Script } from './validator.js';
import { DEFAULT_SIEVE_LIMITS, runScript, type SieveEnvironment, type SieveOutcome } from './interpreter.js';
import { MessageView } from './message.js';
import { SieveRuntimeError } from './errors.js';

const MESSAGE = [
  'Return-Path: <sender@remote.test>',
  'Received: from a.example by b.example; Mon, 1 Jan 2024 10:00:00 +0000',
  'Received: from c.example by d.example; Mon, 1 Jan 2024 09:00:00 +0000',
  'From: "Sender Name" <sender@remote.test>',
  'To: alice+shop@example.org, Bob <bob@example.org>',
  'Subject: =?UTF-8?Q?[list]_Caf=C3=A9_offer?=',
  'Date: Tue, 2 Jan 2024 18:30:00 +0100',
  'X-Spam-Score: 7',
  'Content-Type: multipart/alternative; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Hello, click here to unsubscribe =E2=80=94 thanks.',
  '--b',
  'Content-Type: text/html',
  '',
  '<p>Hello <b>html</b></p>',
  '--b--',
  '',
].join('\r\n');

function env(over: Partial<SieveEnvironment> = {}, scripts: Record<string, string> = {}): SieveEnvironment {
  return {
    message: new MessageView(Buffer.from(MESSAGE)),
    envelope: { from: 'sender@remote.test', to: 'alice+shop@example.org' },
    mailboxExists: (name) => ['INBOX', 'Archive'].includes(name),
    loadScript: (name) => Promise.resolve(scripts[name] === undefined ? undefined : compileScript(scripts[name])),
    limits: DEFAULT_SIEVE_LIMITS,
    now: new Date('2024-03-04T05:06:07Z'),
    ...over,
  };
}

async function run(source: string, over: Partial<SieveEnvironment> = {}, scripts: Record<string, string> = {}): Promise<SieveOutcome> {
  const script: Script = compileScript(source);
  return runScript(script, env(over, scripts));
}

const mailboxes = (o: SieveOutcome) => o.actions.flatMap((a) => (a.kind === 'fileinto' ? [a.mailbox] : []));

test('no actions: implicit keep', async () => {
  const o = await run('if false { discard; }');
  assert.equal(o.implicitKeep, true);
  assert.deepEqual(o.actions, []);
});

test('core tests: header (decoded), address parts, exists, size, anyof/allof/not', async () => {
  const o = await run(`require "fileinto";
if header :contains "subject" "café" { fileinto "decoded"; }
if address :domain :is "from" "REMOTE.test" { fileinto "domain"; }
if address :localpart :is "to" "bob" { fileinto "localpart"; }
if allof (exists ["From", "Date"], not exists "X-Nope", size :over 100, size :under 100K) { fileinto "sized"; }
if anyof (false, header :is "x-spam-score" "7") { fileinto "anyof"; }
if header :matches "subject" "*offer" { fileinto "matches"; }
if header :is :comparator "i;octet" "x-spam-score" "7 " { fileinto "octet"; }
`);
  assert.deepEqual(mailboxes(o), ['decoded', 'domain', 'localpart', 'sized', 'anyof', 'matches']);
  assert.equal(o.implicitKeep, false);
});

test('fileinto :copy and redirect :copy keep the implicit keep; discard and stop', async () => {
  let o = await run('require ["fileinto", "copy"]; fileinto :copy "A"; redirect :copy "x@remote.test";');
  assert.equal(o.implicitKeep, true);
  assert.deepEqual(o.actions.map((a) => a.kind), ['fileinto', 'redirect']);
  o = await run('discard; stop; keep;');
  assert.equal(o.implicitKeep, false);
  assert.deepEqual(o.actions.map((a) => a.kind), ['discard']);
});

test('envelope and subaddress', async () => {
  const o = await run(`require ["envelope", "subaddress", "fileinto"];
if envelope :detail "to" "shop" { fileinto "detail"; }
if envelope :user "to" "alice" { fileinto "user"; }
if envelope :domain "from" "remote.test" { fileinto "from-domain"; }
if address :detail "to" "shop" { fileinto "header-detail"; }
if address :detail :is "to" "" { fileinto "never"; }
`);
  assert.deepEqual(mailboxes(o), ['detail', 'user', 'from-domain', 'header-detail']);
  const nul = await run('require "envelope"; if envelope :all :is "from" "" { discard; }', { envelope: { from: '', to: 'a@example.org' } });
  assert.equal(nul.actions[0]?.kind, 'discard');
});

test('imap4flags: setflag/addflag/removeflag/hasflag, :flags, and flags on implicit keep', async () => {
  const o = await run(`require ["imap4flags", "fileinto"];
setflag "\\\\seen Work";
addflag ["\\\\Flagged", "work"];
if hasflag :is "work" { fileinto "Tagged"; }
removeflag "\\\\Seen";
fileinto :flags "\\\\Answered" "Explicit";
`);
  const [tagged, explicit] = o.actions;
  assert.deepEqual(tagged, { kind: 'fileinto', mailbox: 'Tagged', flags: ['\\Seen', 'Work', '\\Flagged'], create: false, copy: false });
  assert.deepEqual(explicit, { kind: 'fileinto', mailbox: 'Explicit', flags: ['\\Answered'], create: false, copy: false });
  const keepOnly = await run('require "imap4flags"; addflag "$Important";');
  assert.equal(keepOnly.implicitKeep, true);
  assert.deepEqual(keepOnly.implicitKeepFlags, ['$Important']);
});

test('body: :text, :raw, :content', async () => {
  const o = await run(`require ["body", "fileinto"];
if body :text :contains "unsubscribe — thanks" { fileinto "text"; }
if body :raw :contains "=E2=80=94" { fileinto "raw"; }
if body :content "text/html" :contains "<b>html</b>" { fileinto "html"; }
if body :content "text/plain" :contains "<b>" { fileinto "never"; }
`);
  assert.deepEqual(mailboxes(o), ['text', 'raw', 'html']);
});

test('variables: set modifiers, match variables from :matches and :regex, string test', async () => {
  const o = await run(`require ["variables", "fileinto", "regex"];
set :upperfirst :lower "who" "ALICE";
if header :matches "from" "* <*@*>" { set "domain" "\${3}"; }
if header :regex "subject" "^\\\\[([a-z]+)\\\\]" { set "list" "\${1}"; }
set :length "len" "\${who}";
if string :is "\${domain}" "remote.test" { fileinto "\${who}/\${list}/\${len}"; }
set :quotewildcard "q" "a*b?";
if string :is "\${q}" "a\\\\*b\\\\?" { fileinto "quoted"; }
`);
  assert.deepEqual(mailboxes(o), ['Alice/list/5', 'quoted']);
});

test('relational: :value and :count with i;ascii-numeric', async () => {
  const o = await run(`require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "5" { fileinto "spammy"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-spam-score" "10" { fileinto "never"; }
if header :count "eq" "received" "2" { fileinto "two-hops"; }
if address :count "ge" ["to", "cc"] "2" { fileinto "two-to"; }
`);
  assert.deepEqual(mailboxes(o), ['spammy', 'two-hops', 'two-to']);
});

test('date and index: header dates in zones, currentdate, :index/:last', async () => {
  const o = await run(`require ["date", "index", "relational", "fileinto"];
if date :originalzone "date" "hour" "18" { fileinto "orig"; }
if date :zone "+0000" "date" "time" "17:30:00" { fileinto "utc"; }
if date :zone "+0000" "date" "weekday" "2" { fileinto "tuesday"; }
if currentdate :zone "+0000" "date" "2024-03-04" { fileinto "today"; }
if currentdate :value "ge" "year" "2024" { fileinto "year"; }
if header :index 2 :contains "received" "c.example" { fileinto "second"; }
if header :index 1 :last :contains "received" "c.example" { fileinto "last"; }
if header :index 1 :contains "received" "c.example" { fileinto "never"; }
`);
  assert.deepEqual(mailboxes(o), ['orig', 'utc', 'tuesday', 'today', 'year', 'second', 'last']);
});

test('mailbox: mailboxexists and fileinto :create', async () => {
  const o = await run(`require ["mailbox", "fileinto"];
if mailboxexists "Archive" { fileinto :create "New/Folder"; }
if mailboxexists ["Archive", "Missing"] { fileinto "never"; }
`);
  assert.deepEqual(o.actions, [{ kind: 'fileinto', mailbox: 'New/Folder', flags: [], create: true, copy: false }]);
});

test('reject and ereject cancel implicit keep; two rejects are an error', async () => {
  const o = await run('require "reject"; reject "Go away";');
  assert.deepEqual(o.actions, [{ kind: 'reject', reason: 'Go away', extended: false }]);
  assert.equal(o.implicitKeep, false);
  await assert.rejects(run('require ["reject", "ereject"]; reject "a"; ereject "b";'), SieveRuntimeError);
});

test('vacation: parameters and a handle derived from the reply when none is given', async () => {
  const o = await run(`require "vacation";
vacation :days 3 :subject "Away" :from "alice@example.org" :addresses ["alice@example.org", "a@example.org"] "Back soon.";`);
  const v = o.actions[0];
  assert.equal(v?.kind, 'vacation');
  if (v?.kind !== 'vacation') return;
  assert.equal(v.days, 3);
  assert.equal(v.subject, 'Away');
  assert.deepEqual(v.addresses, ['alice@example.org', 'a@example.org']);
  assert.match(v.handle, /^[0-9a-f]{32}$/);
  const same = await run('require "vacation"; vacation :days 9 :subject "Away" :from "alice@example.org" "Back soon.";');
  assert.equal(same.actions[0]?.kind === 'vacation' && same.actions[0].handle, v.handle, ':days and :addresses do not change the handle');
  assert.equal(o.implicitKeep, true);
});

test('include :personal, :once, :optional, return, and loops are bounded', async () => {
  const scripts = {
    lists: 'require ["fileinto", "include"]; if header :contains "subject" "[list]" { fileinto "Lists"; return; } fileinto "never";',
    loop: 'require "include"; include :personal "loop2";',
    loop2: 'require "include"; include :personal "loop";',
  };
  const o = await run('require ["include", "fileinto"]; include :personal "lists"; include :personal "lists"; include :once "lists"; include :optional "missing"; fileinto "after";', {}, scripts);
  assert.deepEqual(mailboxes(o), ['Lists', 'Lists', 'after']);
  await assert.rejects(run('require "include"; include :personal "loop";', {}, scripts), /include loop/);
  await assert.rejects(run('require "include"; include :personal "missing";', {}, scripts), /does not exist/);
});

test('limits: actions, redirects and the time budget', async () => {
  const many = 'require "fileinto";\n' + Array.from({ length: 40 }, (_, i) => `fileinto "f${i}";`).join('\n');
  await assert.rejects(run(many), /more than 32 actions/);
  const redirects = Array.from({ length: 5 }, (_, i) => `redirect "r${i}@remote.test";`).join('\n');
  await assert.rejects(run(redirects), /line 5, column 1: more than 4 redirects/);
  const slow = 'require "body";\n' + Array.from({ length: 2000 }, () => 'if body :text :contains "x" { }').join('\n');
  await assert.rejects(run(slow, { limits: { ...DEFAULT_SIEVE_LIMITS, maxTimeMs: 0 } }), /execution took longer than 0 ms/);
});

test('random scripts that compile run without crashing: every failure is a SieveRuntimeError', async () => {
  let seed = 3;
  const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
  const pick = <T>(xs: T[]): T => xs[rnd(xs.length)]!;
  const key = () => pick(['"x"', '""', '"*"', '"${1}"', '"a*b?"', '"\\\\Seen"', '["to", "cc"]', '"2024"', '"^(a|b)$"', '"[0-9]+"', '"5"']);
  const match = () => pick(['', ':is', ':contains', ':matches', ':regex', ':value "gt"', ':count "ge"', ':value "${1}"']);
  const cmp = () => pick(['', ':comparator "i;ascii-numeric"', ':comparator "i;octet"', ':comparator "${1}"']);
  const part = () => pick(['', ':localpart', ':domain', ':user', ':detail', ':all']);
  const index = () => pick(['', ':index 1', ':index 2 :last']);
  const datePart = () => pick(['"year"', '"date"', '"iso8601"', '"weekday"', '"zone"', '"${1}"', '"julian"', '"std11"']);
  const test = (): string =>
    pick([
      () => `header ${match()} ${cmp()} ${index()} ${pick(['"subject"', '["from", "received"]', '"${1}"'])} ${key()}`,
      () => `address ${match()} ${part()} ${index()} ${pick(['"from"', '["to", "cc"]'])} ${key()}`,
      () => `envelope ${match()} ${part()} ${pick(['"from"', '"to"'])} ${key()}`,
      () => `string ${match()} ${cmp()} ${key()} ${key()}`,
      () => `body ${pick([':raw', ':text', ':content "text"', ''])} ${match()} ${key()}`,
      () => `hasflag ${match()} ${key()}`,
      () => `date ${match()} ${pick([':zone "+0200"', ':originalzone', ':zone "${1}"', ''])} ${index()} "date" ${datePart()} ${key()}`,
      () => `currentdate ${match()} ${pick([':zone "-0530"', ''])} ${datePart()} ${key()}`,
      () => `size ${pick([':over', ':under'])} ${pick(['1', '10K'])}`,
      () => `exists ${key()}`,
      () => `mailboxexists ${key()}`,
      () => `not anyof (true, ${pick(['false', 'exists "x"'])})`,
    ])();
  const command = () =>
    pick([
      'keep;',
      'discard;',
      'stop;',
      `fileinto ${pick(['', ':copy', ':create', ':flags "\\\\Flagged"'])} ${key()};`,
      `redirect ${pick(['', ':copy'])} ${pick(['"x@remote.test"', '"${1}"'])};`,
      `reject ${key()};`,
      `vacation ${pick(['', ':days 2', ':subject "${1}"', ':addresses ["a@b.c"]'])} ${key()};`,
      `setflag ${key()};`,
      `addflag "v" ${key()};`,
      `removeflag ${key()};`,
      `set ${pick(['', ':lower', ':length', ':quotewildcard :upperfirst'])} "v" ${pick(['"x"', '"${1}"'])};`,
      `include :optional ${pick(['"a"', '"${v}"'])};`,
    ]);
  const requires = 'require ["fileinto", "reject", "envelope", "imap4flags", "copy", "body", "variables", "vacation", "relational", "subaddress", "date", "index", "regex", "mailbox", "include", "comparator-i;ascii-numeric"];\n';
  let compiled = 0;
  for (let i = 0; i < 2000; i++) {
    let src = requires;
    for (let j = 0; j < 3; j++) src += `if ${test()} { ${command()} } elsif ${test()} { ${command()} }\n`;
    let script;
    try {
      script = compileScript(src);
    } catch {
      continue;
    }
    compiled++;
    try {
      await runScript(script, env());
    } catch (err) {
      assert.ok(err instanceof SieveRuntimeError, `${String(err)} for\n${src}`);
    }
  }
  assert.ok(compiled > 200, `only ${compiled} random scripts compiled`);
});
