// SMTP probe: banner, EHLO, STARTTLS and the certificate, as a client would see them.
// RFC 5321 4.2: a reply is lines "ddd-text" ending with "ddd text".
import { daysLeft, LineClient, ProbeError } from './line-client.js';
import type { StepRecorder } from './types.js';

export interface SmtpTarget {
  /** Step name prefix: the listener name. */
  name: string;
  host: string;
  port: number;
  implicitTls: boolean;
}

export async function readSmtpReply(client: LineClient): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.readLine();
    lines.push(line.slice(4));
    if (!/^\d{3}[ -]/.test(line)) throw new ProbeError(`not an SMTP reply: ${line.slice(0, 80)}`);
    if (line[3] === ' ') return { code: Number(line.slice(0, 3)), lines };
  }
}

async function expect(client: LineClient, code: number, what: string): Promise<string[]> {
  const reply = await readSmtpReply(client);
  if (reply.code !== code) throw new ProbeError(`${what}: ${reply.code} ${reply.lines.join(' ').slice(0, 120)}`);
  return reply.lines;
}

/**
 * Records `<name>:banner`, `<name>:ehlo`, `<name>:starttls` and, with credentials (submission),
 * `<name>:auth`; returns the certificate's days left, if TLS was reached.
 */
export async function probeSmtp(
  target: SmtpTarget,
  recorder: StepRecorder,
  options: { hostname: string; timeoutMs: number; credentials?: { account: string; password: string } | null },
): Promise<number | undefined> {
  let client: LineClient | undefined;
  try {
    let days: number | undefined;
    client = await recorder.step(`${target.name}:banner`, async () => {
      const c = await LineClient.connect({ host: target.host, port: target.port, implicitTls: target.implicitTls, timeoutMs: options.timeoutMs });
      await expect(c, 220, 'banner');
      return c;
    });
    const c = client;
    let capabilities = await recorder.step(`${target.name}:ehlo`, async () => {
      c.send(`EHLO ${options.hostname}`);
      return (await expect(c, 250, 'EHLO')).map((l) => l.toUpperCase());
    });
    if (target.implicitTls) {
      const cert = c.peerCertificate();
      if (cert) days = daysLeft(cert);
    } else {
      await recorder.step(`${target.name}:starttls`, async () => {
        if (!capabilities.some((l) => l.startsWith('STARTTLS'))) throw new ProbeError('STARTTLS not offered');
        c.send('STARTTLS');
        await expect(c, 220, 'STARTTLS');
        days = daysLeft(await c.startTls());
        c.send(`EHLO ${options.hostname}`);
        capabilities = (await expect(c, 250, 'EHLO after STARTTLS')).map((l) => l.toUpperCase());
      });
    }
    const credentials = options.credentials;
    if (credentials) {
      // RFC 4954 with RFC 4616 PLAIN, over TLS only.
      await recorder.step(`${target.name}:auth`, async () => {
        if (!capabilities.some((l) => /^AUTH\b.*\bPLAIN\b/.test(l))) throw new ProbeError('AUTH PLAIN not offered after TLS');
        c.send(`AUTH PLAIN ${Buffer.from(`\0${credentials.account}\0${credentials.password}`).toString('base64')}`);
        await expect(c, 235, 'AUTH');
      });
    }
    c.send('QUIT');
    return days;
  } catch {
    return undefined;
  } finally {
    client?.close();
  }
}
