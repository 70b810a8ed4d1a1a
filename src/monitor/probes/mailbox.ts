// POP3 and IMAP probes: greeting, capabilities, STLS/STARTTLS, and login when a probe
// account is configured.
import { ProbeError } from './line-client.js';
import { ImapClient } from './imap.js';
import { Pop3Client } from './pop3.js';
import type { StepRecorder } from './types.js';

export interface MailboxTarget {
  name: string;
  host: string;
  port: number;
  implicitTls: boolean;
}

export interface Credentials {
  account: string;
  password: string;
}

export async function probePop3(target: MailboxTarget, recorder: StepRecorder, options: { timeoutMs: number; credentials: Credentials | null }): Promise<void> {
  let pop: Pop3Client | undefined;
  try {
    pop = await recorder.step(`${target.name}:banner`, () => Pop3Client.connect({ ...target, timeoutMs: options.timeoutMs }));
    const p = pop;
    const caps = await recorder.step(`${target.name}:capa`, () => p.capabilities());
    if (!target.implicitTls) {
      await recorder.step(`${target.name}:stls`, async () => {
        if (!caps.includes('STLS')) throw new ProbeError('STLS not offered');
        await p.stls();
      });
    }
    const credentials = options.credentials;
    if (credentials) await recorder.step(`${target.name}:login`, () => p.login(credentials.account, credentials.password));
    await p.quit();
  } catch {
    pop?.close();
  }
}

export async function probeImap(target: MailboxTarget, recorder: StepRecorder, options: { timeoutMs: number; credentials: Credentials | null }): Promise<void> {
  let imap: ImapClient | undefined;
  try {
    imap = await recorder.step(`${target.name}:banner`, () => ImapClient.connect({ ...target, timeoutMs: options.timeoutMs }));
    const i = imap;
    const caps = await recorder.step(`${target.name}:capability`, () => i.capabilities());
    if (!target.implicitTls) {
      await recorder.step(`${target.name}:starttls`, async () => {
        if (!caps.includes('STARTTLS')) throw new ProbeError('STARTTLS not offered');
        await i.startTls();
      });
    }
    const credentials = options.credentials;
    if (credentials) await recorder.step(`${target.name}:login`, () => i.login(credentials.account, credentials.password));
    await i.logout();
  } catch {
    imap?.close();
  }
}
