import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeText } from './compose-text.js';

test('paragraphs, breaks, lists, links and nested quotes become readable text', () => {
  const html =
    '<p>Hello <b>world</b> &amp; friends</p><p>Second<br>line</p><ul><li>one</li><li>two <a href="https://x.test/a">link</a></li></ul>' +
    '<ol><li>first</li><li>second</li></ol><blockquote type="cite"><p>quoted text</p><p>more</p><blockquote>deep</blockquote></blockquote><div>after</div>';
  assert.equal(composeText(html), 'Hello world & friends\n\nSecond\nline\n\n- one\n- two link <https://x.test/a>\n\n1. first\n2. second\n\n> quoted text\n>\n> more\n>\n> > deep\n>\nafter\n');
});

test('a link whose text is its address is not repeated; pre keeps its lines; styles are dropped', () => {
  assert.equal(composeText('<style>p{color:red}</style><p><a href="https://a.test/">https://a.test/</a></p><pre>  a\n  b</pre>'), 'https://a.test/\n\n  a\n  b\n');
});
