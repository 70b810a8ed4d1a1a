import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { LocalChangeBus } from './store/bus.js';
import type { ChangeEvent } from './store/store.js';
import { relayBusThroughPrimary, type Channel } from './workers.js';

/** Two workers' IPC channels joined through a relay that plays the primary. */
function pair(): [Channel, Channel] {
  const a = new EventEmitter() as EventEmitter & Channel;
  const b = new EventEmitter() as EventEmitter & Channel;
  a.send = (m) => b.emit('message', structuredClone(m));
  b.send = (m) => a.emit('message', structuredClone(m));
  return [a, b];
}

test('an event published in one worker reaches subscribers in the other, once', () => {
  const [ca, cb] = pair();
  const busA = new LocalChangeBus();
  const busB = new LocalChangeBus();
  const stopA = relayBusThroughPrimary(busA, ca);
  relayBusThroughPrimary(busB, cb);
  const seenA: ChangeEvent[] = [];
  const seenB: ChangeEvent[] = [];
  busA.subscribe(7, (e) => seenA.push(e));
  busB.subscribe(7, (e) => seenB.push(e));
  busB.subscribe(8, () => assert.fail('other account'));

  const event: ChangeEvent = { accountId: 7, mailboxId: 3, kind: 'exists', modseq: 12, uids: [5] };
  busA.publish(event);
  assert.deepEqual(seenA, [event]);
  assert.deepEqual(seenB, [event]);

  stopA();
  busB.publish({ ...event, modseq: 13 });
  assert.equal(seenA.length, 1, 'a stopped relay delivers nothing');
  assert.equal(seenB.length, 2);
});

test('a disconnected channel is not written to', () => {
  const channel = new EventEmitter() as EventEmitter & Channel;
  channel.connected = false;
  channel.send = () => assert.fail('sent on a closed channel');
  const bus = new LocalChangeBus();
  relayBusThroughPrimary(bus, channel);
  bus.publish({ accountId: 1, kind: 'mailbox-created', name: 'X' });
});
