import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { ChangeRelay } from '../ipc-bus.js';

function start(role: string): Promise<ChildProcess> {
  const child = fork(new URL('./ipc-bus-child.ts', import.meta.url).pathname, [role], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('error', reject);
  });
}

test('a change published in one worker reaches listeners in another through the primary', async () => {
  const relay = new ChangeRelay();
  const publisher = await start('publish');
  const listener = await start('listen');
  relay.add(publisher);
  relay.add(listener);
  try {
    const heard = new Promise<unknown>((resolve) => listener.on('message', (m: { heard?: unknown }) => m.heard && resolve(m.heard)));
    publisher.send({ publish: true });
    assert.deepEqual(await heard, { accountId: 7, mailboxId: 3, kind: 'exists', modseq: 9, uids: [1] });
  } finally {
    publisher.send({ exit: true });
    listener.send({ exit: true });
  }
});
