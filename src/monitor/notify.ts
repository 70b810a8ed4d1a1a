// Email to the status page's subscribers ([monitor] subscribers) when an incident is
// opened or updated: one message through our own outbound queue, every subscriber an
// envelope recipient and none named in the headers, from the null sender.
import type { Store } from '../store/store.js';
import type { Incident } from '../store/sql/monitoring.js';
import { componentTitle } from './status.js';

const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ');

export function incidentMessage(hostname: string, incident: Incident, now = new Date()): Buffer {
  const latest = incident.updates.at(-1);
  const subject = `[${hostname} status] ${incident.title} - ${incident.stage}`;
  const lines = [
    `${incident.title}`,
    `Stage: ${incident.stage}. Impact: ${incident.impact}. Affects: ${incident.components.length === 0 ? 'all services' : incident.components.map(componentTitle).join(', ')}.`,
    '',
    ...(latest ? [`${latest.at.toISOString()} ${latest.stage}:`, latest.body, ''] : []),
    ...incident.issues.map((i) => `Known issue: ${i.title} - ${i.state}`),
    '',
    `Status page: http://${hostname}/status#incident-${incident.id}`,
    '',
  ];
  const headers = [
    `From: ${oneLine(hostname)} status <status@${oneLine(hostname)}>`,
    'To: undisclosed-recipients:;',
    `Subject: ${oneLine(subject)}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <status.${incident.id}.${now.getTime()}@${oneLine(hostname)}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${lines.join('\r\n')}`, 'utf8');
}

/** Queues the notice; returns the number of subscribers it goes to. */
export async function notifySubscribers(store: Store, hostname: string, subscribers: readonly string[], incident: Incident): Promise<number> {
  if (subscribers.length === 0) return 0;
  const blob = await store.blobs.put(incidentMessage(hostname, incident));
  await store.enqueueOutbound({ blobId: blob.id, size: blob.size, mailFrom: '', recipients: [...subscribers] });
  return subscribers.length;
}
