// The end-to-end probe: submit a message carrying a unique token through submission
// (authenticated as the probe account, to itself), see it arrive over IMAP, collect
// and delete it over POP3. Each step is timed. If POP3 cannot delete it, IMAP does,
// so a failing run leaves no mail behind.
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { ProbeError } from './line-client.js';
import { ImapClient, quoted } from './imap.js';
import { Pop3Client } from './pop3.js';
import type { Credentials, MailboxTarget } from './mailbox.js';
import type { StepRecorder } from './types.js';

export interface RoundTripTargets {
  submission: MailboxTarget;
  imap: MailboxTarget;
  pop3: MailboxTarget;
}

const POLL_MS = 50;

export async function probeRoundTrip(
  targets: RoundTripTargets,
  recorder: StepRecorder,
  options: { credentials: Credentials; timeoutMs: number; hostname: string },
): Promise<void> {
  const { credentials, timeoutMs } = options;
  const token = `steadymail-probe-${randomBytes(12).toString('hex')}`;
  let imap: ImapClient | undefined;
  let uids: number[] = [];
  let collected = false;
  try {
    await recorder.step('submit', async () => {
      const transport = nodemailer.createTransport({
        host: targets.submission.host,
        port: targets.submission.port,
        secure: targets.submission.implicitTls,
        requireTLS: !targets.submission.implicitTls,
        // The node's own certificate is checked (days left) by the SMTP probe; a self-signed one must not fail this.
        tls: { rejectUnauthorized: false },
        name: options.hostname,
        auth: { user: credentials.account, pass: credentials.password },
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      try {
        await transport.sendMail({
          from: credentials.account,
          to: credentials.account,
          subject: token,
          headers: { 'X-Steadymail-Probe': token },
          text: `Monitoring round trip ${token}; it deletes itself.\r\n`,
        });
      } finally {
        transport.close();
      }
    });

    imap = await recorder.step('imap-arrival', async () => {
      const client = await ImapClient.connect({ ...targets.imap, timeoutMs });
      try {
        if (!targets.imap.implicitTls) await client.startTls();
        await client.login(credentials.account, credentials.password);
        await client.command('SELECT INBOX');
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          uids = await client.uidSearch(`HEADER Subject ${quoted(token)}`);
          if (uids.length > 0) return client;
          if (Date.now() > deadline) throw new ProbeError('the message did not arrive in INBOX');
          await new Promise((r) => setTimeout(r, POLL_MS));
          await client.command('NOOP');
        }
      } catch (err) {
        client.close();
        throw err;
      }
    });

    await recorder.step('pop3-collect', async () => {
      const pop = await Pop3Client.connect({ ...targets.pop3, timeoutMs });
      try {
        if (!targets.pop3.implicitTls) await pop.stls();
        await pop.login(credentials.account, credentials.password);
        const found = await pop.find(token);
        if (found.length === 0) throw new ProbeError('the message is not in the POP3 maildrop');
        for (const n of found) await pop.command(`DELE ${n}`, 'DELE');
        await pop.quit();
        collected = true;
      } finally {
        pop.close();
      }
    });
  } catch {
    // recorded by the failing step
  } finally {
    if (imap && !collected && uids.length > 0) {
      const client = imap;
      await recorder.attempt(() =>
        recorder.step('cleanup', async () => {
          await client.command(`UID STORE ${uids.join(',')} +FLAGS.SILENT (\\Deleted)`, 'UID STORE');
          await client.command(`UID EXPUNGE ${uids.join(',')}`, 'UID EXPUNGE');
        }),
      );
    }
    await imap?.logout();
  }
}
