// Parsing and validation: the RFC examples compile; malformed scripts give one
// clear error with line:column and never crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileScript } from './validator.js';
import { SieveError } from './errors.js';

function errorOf(source: string): string {
  try {
    compileScript(source);
  } catch (err) {
    assert.ok(err instanceof SieveError, `expected a SieveError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the script compiled');
}

test('RFC 5228 9 example script compiles', () => {
  const s = compileScript(`#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
`);
  assert.equal(s.commands.length, 4);
  assert.deepEqual([...s.requires], ['fileinto']);
});

test('extension examples compile: vacation, variables, imap4flags, body, date, relational, regex, include', () => {
  compileScript(`require ["vacation", "variables", "imap4flags", "body", "date", "relational", "regex", "include", "mailbox", "copy", "subaddress", "envelope", "index", "fileinto", "comparator-i;ascii-numeric"];
if header :matches "Subject" "*" { set "subject" "\${1}"; }
vacation :days 7 :addresses ["me@example.org"] :subject "Away: \${subject}" :handle "away" text:
I am away.
..and this line starts with a dot.
.
;
if body :text :contains "unsubscribe" { addflag "\\\\Seen"; }
if date :value "ge" :originalzone "date" "hour" "17" { setflag "late" "\\\\Flagged"; }
if header :count "ge" :comparator "i;ascii-numeric" "received" "5" { fileinto :create :copy "Many/Hops"; }
if header :regex "subject" "^\\\\[([a-z]+)\\\\]" { fileinto :create "lists/\${1}"; }
if envelope :detail "to" "shop" { fileinto "Shopping"; }
if header :index 1 :last :contains "received" "example" { keep; }
include :personal :optional "extra";
if mailboxexists "Archive" { stop; }
`);
});

test('errors point at line and column', () => {
  assert.equal(errorOf('keep;\nfileinto "x";'), 'line 2, column 1: "fileinto" needs require "fileinto"');
  assert.equal(errorOf('if header :is "a" "b" {\n  keep;\n'), 'line 3, column 1: expected "}" to close the block of "if" (line 1), found the end of the script');
  assert.equal(errorOf('require "nonsense";'), 'line 1, column 9: unsupported extension "nonsense"');
  assert.equal(errorOf('keep\ndiscard;'), 'line 2, column 1: "keep" takes no test (is a ";" missing before "discard"?)');
  assert.equal(errorOf('if true { keep; }\n  else keep;'), 'line 2, column 8: "else" takes no test (is a ";" missing before "keep"?)');
  assert.equal(errorOf('if true { keep; }\n  else { keep; '), 'line 2, column 16: expected "}" to close the block of "else" (line 2), found the end of the script');
  assert.match(errorOf('frobnicate;'), /^line 1, column 1: unknown command "frobnicate"$/);
  assert.match(errorOf('if header :foo "a" "b" { keep; }'), /^line 1, column 11: "header" has no tag ":foo"$/);
  assert.match(errorOf('if header :is :contains "a" "b" { keep; }'), /column 15: ":contains" cannot be combined with ":is"/);
  assert.match(errorOf('if size 100 { keep; }'), /"size" needs ":over" or ":under"/);
  assert.match(errorOf('else { keep; }'), /"else" must follow "if" or "elsif"/);
  assert.match(errorOf('keep;\nrequire "fileinto";'), /^line 2, column 1: "require" must come before any other command$/);
  assert.match(errorOf('if header "a" { keep; }'), /"header" takes a string list, a string list/);
  assert.match(errorOf('x "abc'), /^line 1, column 3: unterminated string/);
  assert.match(errorOf('/* open'), /^line 1, column 1: unterminated comment/);
  assert.match(errorOf('require "regex";\nif header :regex "s" "(a+)+" { keep; }'), /^line 2, column 4: regular expression "\(a\+\)\+": .*exponential/);
  assert.match(errorOf('require "relational";\nif header :value "bigger" "s" "1" { keep; }'), /":value" needs one of/);
  assert.match(errorOf('redirect "not an address";'), /is not a mail address/);
  assert.match(errorOf('require "vacation";\nvacation :days 0 "x";'), /":days" must be at least 1/);
  assert.match(errorOf('require "include";\ninclude :global "x";'), /global scripts are not supported/);
  assert.match(errorOf('keep; ]'), /^line 1, column 7: expected a command, found "\]"/);
  assert.match(errorOf('text:\nabc\n'), /unterminated "text:" string/);
});

test('hostile input: deep nesting and random bytes never crash', () => {
  const deep = 'if true {'.repeat(100) + 'keep;' + '}'.repeat(100);
  assert.match(errorOf(deep), /nested deeper than 32 levels/);
  const tests = 'if ' + 'not '.repeat(100) + 'true { keep; }';
  assert.match(errorOf(tests), /nested deeper than 32 levels/);
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = 'if header :is :matches "x" [ ] ( ) { } , ; keep fileinto text:\n.\n# /* */ 12K \\ anyof not';
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = Math.floor(rnd() * 60);
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    try {
      compileScript(s);
    } catch (err) {
      assert.ok(err instanceof SieveError, `non-Sieve error for ${JSON.stringify(s)}: ${String(err)}`);
    }
  }
});

test('strings: escapes, multi-line dot-stuffing, numbers with quantifiers', () => {
  const s = compileScript('require "fileinto";\nif size :over 1K { fileinto "a\\"b\\\\c\\d"; }');
  const block = s.commands[0]!.block!;
  assert.equal(block[0]!.args[0], 'a"b\\cd');
  assert.equal(s.commands[0]!.tests[0]!.args[0], 1024);
});

test('examples from the extension RFCs compile', () => {
  const examples: Record<string, string> = {
    'RFC 5230 4.1': `require "vacation";
if header :contains "subject" "cyrus" {
    vacation "I'm out -- send mail to cyrus-bugs";
} else {
    vacation "I'm out -- call me at +1 304 555 0123";
}`,
    'RFC 5230 4.6': `require "vacation";
vacation :days 23 :addresses ["tjs@example.edu",
                               "ts4z@landru.example.edu"]
   "I'm away until October 19.
   If it's an emergency, call 911, I guess." ;`,
    'RFC 5230 4.7 (:mime)': `require "vacation";
vacation :mime text:
Content-Type: multipart/alternative; boundary=foo

--foo

I'm at the beach relaxing.  Mmmm, surf...

--foo--
.
;`,
    'RFC 5230 4.5 (:subject with variables)': `require ["vacation", "variables"];
if header :matches "subject" "*" {
    vacation :subject "Automatic response to: \${1}"
             "I'm away -- send mail to foo in my absence";
}`,
    'RFC 5229 7': `require ["variables", "fileinto"];
set "honorific"  "Mr";
set "first_name" "Joe";
set "last_name"  "Doe";
set "vacation" text:
Dear \${HONORIFIC} \${last_name},
I'm out, please leave a message after the meep.
.
;
if header :matches "Subject" "*" {
        set "subject" "\${1}";
}
if header :matches "From" "*" {
        set "from" "\${1}";
}
if string :matches " \${subject} " "* [*/*] *" {
        fileinto "INBOX.lists.\${2}"; stop;
}`,
    'RFC 5232 7': `require ["imap4flags", "fileinto", "variables"];
if header :contains "from" "boss@frobnitzm.example.edu" {
    setflag "flagvar" "\\\\Flagged";
    fileinto :flags "\${flagvar}" "INBOX.From Boss";
}
if header :contains "Disposition-Notification-To" "mel@example.com" {
    addflag "flagvar" "$MDNRequired";
}
if header :contains "from" "imap@cac.washington.example.edu" {
    removeflag "flagvar" "$MDNRequired";
    fileinto :flags "\${flagvar}" "INBOX.imap-list";
}`,
    'RFC 5260 4.2': `require ["date", "relational", "fileinto"];
if allof(header :is "from" "boss@example.com",
         date :value "ge" :originalzone "date" "hour" "09",
         date :value "lt" :originalzone "date" "hour" "17")
{ fileinto "urgent"; }`,
    'RFC 5260 5.1': `require ["date", "relational", "vacation"];
if allof(currentdate :value "ge" "date" "2007-06-30",
         currentdate :value "le" "date" "2007-07-07")
{ vacation :days 7  "I'm away during the first week in July."; }`,
    'RFC 5260 7': `require ["date", "index"];
if date :index 1 :last "received" "year" "2008" { discard; }`,
    'RFC 5173 7': `require ["body", "fileinto"];
if body :raw :contains "MAKE MONEY FAST" { discard; }
if body :content "text" :contains ["missile", "coordinates"] { fileinto "secrets"; }
if body :content "audio/mp3" :contains "" { fileinto "jukebox"; }
if body :text :contains "project schedule" { fileinto "project/schedule"; }`,
    'RFC 5231 5': `require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "lt" :comparator "i;ascii-numeric" ["x-priority"] ["3"] { fileinto "Priority"; }
elsif address :count "gt" :comparator "i;ascii-numeric" ["to"] ["5"] { fileinto "SPAM"; }
elsif address :value "gt" :all :comparator "i;ascii-casemap" ["from"] ["M"] { fileinto "From N-Z"; }
else { fileinto "From A-M"; }`,
    'RFC 5429 2.1': `require ["reject"];
if header :contains "from" "coyote@desert.example.org" {
   reject text:
I am not taking mail from you, and I don't
want your birdseed, either!
.
   ;
}`,
    'RFC 5233 5': `require ["envelope", "subaddress", "fileinto"];
if envelope :user "to" "postmaster" { fileinto "inbox.postmaster"; stop; }
if envelope :detail "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; stop; }
if envelope :detail "to" "" { fileinto "inbox.detail"; }`,
    'RFC 5490 3 / RFC 3894': `require ["mailbox", "fileinto", "copy"];
if mailboxexists "Fruit/Apples" { fileinto :copy :create "Fruit/Apples"; }`,
    'RFC 6609 3.2': `require ["include"];
include :personal "always_allow";
include :personal :once :optional "spam_tests";
return;`,
  };
  for (const [name, source] of Object.entries(examples)) {
    try {
      compileScript(source);
    } catch (err) {
      assert.fail(`${name}: ${(err as Error).message}`);
    }
  }
});
