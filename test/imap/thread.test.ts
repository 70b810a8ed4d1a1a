// RFC 5256 THREAD over real messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, append, startServer } from './harness.js';

function mail(id: string, subject: string, date: string, refs = ''): string {
  return `From: a@example.org\r\nSubject: ${subject}\r\nDate: ${date}\r\nMessage-ID: <${id}@x>\r\n${refs ? `References: ${refs}\r\n` : ''}\r\nbody\r\n`;
}

test('THREAD=REFERENCES and THREAD=ORDEREDSUBJECT', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    await c.login();
    await c.cmd('c', 'CREATE T');
    await append(c, 'T', mail('a', 'Plans', 'Mon, 1 Jan 2024 10:00:00 +0000')); // 1
    await append(c, 'T', mail('b', 'Re: Plans', 'Mon, 1 Jan 2024 11:00:00 +0000', '<a@x>')); // 2
    await append(c, 'T', mail('c', 'Other', 'Mon, 1 Jan 2024 09:00:00 +0000')); // 3
    await append(c, 'T', mail('d', 'Re: Plans', 'Mon, 1 Jan 2024 12:00:00 +0000', '<a@x> <b@x>')); // 4
    await append(c, 'T', mail('e', 'Re: Plans', 'Mon, 1 Jan 2024 13:00:00 +0000', '<a@x>')); // 5
    await append(c, 'T', mail('f', 'Re: lost', 'Mon, 1 Jan 2024 14:00:00 +0000', '<missing@x>')); // 6
    await c.cmd('s', 'SELECT T');
    assert.deepEqual(await c.cmd('t', 'THREAD REFERENCES UTF-8 ALL'), ['* THREAD (3)(1 (2 4)(5))(6)', 't OK THREAD completed']);
    assert.deepEqual(await c.cmd('o', 'THREAD ORDEREDSUBJECT UTF-8 ALL'), ['* THREAD (3)(1 (2)(4)(5))(6)', 'o OK THREAD completed']);
    assert.deepEqual(await c.cmd('u', 'UID THREAD REFERENCES UTF-8 NOT SUBJECT Other'), ['* THREAD (1 (2 4)(5))(6)', 'u OK THREAD completed']);
    assert.match((await c.cmd('x', 'THREAD FOO UTF-8 ALL')).at(-1) ?? '', /^x (NO|BAD) /);
    c.close();
  } finally {
    await h.close();
  }
});
