import { test } from 'node:test';
import assert from 'node:assert/strict';
import { receivedHeader, withoutForgedAuthResults } from './trace.js';

test('forged Authentication-Results with our authserv-id are removed, others kept (RFC 8601 5)', () => {
  const msg = Buffer.from(
    'Authentication-Results: MX.example.org;\r\n dkim=pass header.d=bank.example\r\n' +
      'Authentication-Results: relay.other.example; spf=pass\r\n' +
      'Subject: hi\r\n\r\nAuthentication-Results: mx.example.org; in the body\r\n',
  );
  const out = withoutForgedAuthResults(msg, 'mx.example.org').toString();
  assert.equal(out, 'Authentication-Results: relay.other.example; spf=pass\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.example.org; in the body\r\n');
});

test('a message without Authentication-Results is returned as is', () => {
  const msg = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
  assert.equal(withoutForgedAuthResults(msg, 'mx.example.org'), msg);
});

test('Received names helo, IP, protocol, TLS, and the recipient only when there is one', () => {
  const t = { sessionId: 'abc', remoteAddress: '192.0.2.7', helo: 'mail.example.net', protocol: 'ESMTPS', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } };
  const one = receivedHeader('mx.example.org', t, ['a@example.org']);
  assert.match(one, /^Received: from mail\.example\.net \(\[192\.0\.2\.7\]\)\r\n\tby mx\.example\.org \(Steadymail\) with ESMTPS id abc\r\n\t\(version=TLSv1\.3 cipher=TLS_AES_256_GCM_SHA384\)\r\n\tfor <a@example\.org>; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n$/);
  assert.doesNotMatch(receivedHeader('mx.example.org', t, ['a@example.org', 'b@example.org']), /for </);
});
