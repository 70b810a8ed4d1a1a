// Test helper process for ipc-bus.test.ts: publishes or listens on an IpcChangeBus.
import { IpcChangeBus } from '../ipc-bus.js';

const bus = new IpcChangeBus();
const role = process.argv[2];
if (role === 'listen') {
  bus.subscribe(7, (event) => {
    process.send?.({ heard: event });
  });
  process.send?.({ ready: true });
} else {
  process.on('message', (msg: { publish?: boolean }) => {
    if (msg.publish) bus.publish({ accountId: 7, mailboxId: 3, kind: 'exists', modseq: 9, uids: [1] });
  });
  process.send?.({ ready: true });
}
process.on('message', (msg: { exit?: boolean }) => {
  if (msg.exit) void bus.close().then(() => process.exit(0));
});
