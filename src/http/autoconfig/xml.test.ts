import assert from 'node:assert/strict';
import { test } from 'node:test';
import { child, escapeXml, parseXml, XmlError } from './xml.js';

test('namespaces, prefixes, entities, CDATA and comments are read as XML defines them', () => {
  const root = parseXml(
    '\uFEFF<?xml version="1.0"?><!-- c --><a:Autodiscover xmlns:a="urn:x" xmlns="urn:d"><a:Request k=\'1\'><E>x&amp;y&#64;&#x41;<![CDATA[<z>]]></E><F/></a:Request></a:Autodiscover>\n',
  );
  assert.equal(root.ns, 'urn:x');
  assert.equal(root.local, 'Autodiscover');
  const request = child(root, 'urn:x', 'Request');
  assert.equal(request?.attributes.get('k'), '1');
  assert.equal(child(request, 'urn:d', 'E')?.text, 'x&y@A<z>');
  assert.ok(child(request, 'urn:d', 'F'));
  assert.equal(escapeXml(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
});

test('malformed or hostile documents are refused with a reason, never expanded', () => {
  const bad: Array<[string, RegExp]> = [
    ['<a><b></a>', /does not match/],
    ['<a>', /not closed/],
    ['<a/><b/>', /more than one root/],
    ['<a>&xxe;</a>', /unknown entity/],
    ['<a>&amp</a>', /unterminated entity/],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /DOCTYPE/],
    ['<p:a/>', /unbound prefix/],
    ['<a b="1" b="2"/>', /repeated/],
    ['<a b=1/>', /malformed attribute/],
    ['text', /outside the root/],
    ['<a>&#0;</a>', /unknown entity/],
    ['<a>'.repeat(40) + '</a>'.repeat(40), /nested deeper/],
  ];
  for (const [doc, reason] of bad) assert.throws(() => parseXml(doc), (e: unknown) => e instanceof XmlError && reason.test(e.message), doc);
  assert.throws(() => parseXml('<a>' + '<b/>'.repeat(11) + '</a>', { maxDepth: 4, maxElements: 10 }), /more than 10 elements/);
});
