// Alert webhooks are retried with backoff on network errors and 5xx answers, a bounded
// number of times, never after a success and never on a 4xx: a local HTTP server that
// fails its first requests in different ways.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { postWebhook, type AlertEvent } from '../../src/monitor/alerts.js';

let server: Server;
let url: string;
let behaviour: Array<'drop' | 500 | 503 | 400 | 200> = [];
const seen: Array<{ delivery: string; attempt: string; body: string }> = [];

const event: AlertEvent = { component: 'imap', name: 'IMAP', status: 'major outage', previous: 'operational', since: new Date().toISOString(), hostname: 'mail.test', node: 'n1' };

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ delivery: String(req.headers['x-steadymail-delivery']), attempt: String(req.headers['x-steadymail-attempt']), body });
      const next = behaviour.shift() ?? 200;
      if (next === 'drop') req.socket.destroy();
      else res.writeHead(next).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  assert.ok(a && typeof a === 'object');
  url = `http://127.0.0.1:${a.port}/hook`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const options = { timeoutMs: 2000, attempts: 4, retryMs: 50 };

test('a dropped connection and a 503 are retried; the success ends it, with one delivery id', async () => {
  seen.length = 0;
  behaviour = ['drop', 503, 200];
  const started = Date.now();
  assert.equal(await postWebhook(url, event, options), 3);
  assert.ok(Date.now() - started >= 50 + 100, 'backoff: 50 ms, then 100 ms');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(seen.length, 3, 'nothing is posted after the success');
  assert.deepEqual(seen.map((s) => s.attempt), ['1', '2', '3']);
  assert.equal(new Set(seen.map((s) => s.delivery)).size, 1);
  assert.equal((JSON.parse(seen[2]!.body) as { status: string }).status, 'major outage');
});

test('attempts are bounded; a 4xx is not retried', async () => {
  seen.length = 0;
  behaviour = [500, 500, 500, 500, 500, 500];
  await assert.rejects(postWebhook(url, event, options), /answered 500/);
  assert.equal(seen.length, 4);
  seen.length = 0;
  behaviour = [400];
  await assert.rejects(postWebhook(url, event, options), /answered 400/);
  assert.equal(seen.length, 1);
  behaviour = [];
});
