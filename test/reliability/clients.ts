// Small protocol clients for the fault tests: each returns the reply a real client would
// act on (the SMTP reply to the failing command, the IMAP tagged reply, the POP3 status
// line) instead of throwing, so a test can assert the exact temporary-failure answer.
import { Wire } from '../security/wire.js';

/** One SMTP transaction; resolves with the first reply that is not a success (or the final 250). */
export async function smtpSend(
  port: number,
  opts: { from: string; to: string; subject: string; body?: string; auth?: { user: string; pass: string } },
): Promise<string> {
  const c = await Wire.connect(port);
  const reply = async (): Promise<string> => (await c.until(/^\d{3} .*\r\n/m, 10_000)).split('\r\n').filter(Boolean).at(-1)!;
  const step = async (line: string, ok: RegExp): Promise<string | undefined> => {
    c.write(`${line}\r\n`);
    const r = await reply();
    return ok.test(r) ? undefined : r;
  };
  try {
    const greeting = await reply();
    if (!greeting.startsWith('220')) return greeting;
    let failed = await step('EHLO client.test', /^250/);
    if (failed) return failed;
    if (opts.auth) {
      failed = await step('STARTTLS', /^220/);
      if (failed) return failed;
      await c.startTls();
      failed = await step('EHLO client.test', /^250/);
      if (failed) return failed;
      const plain = Buffer.from(`\0${opts.auth.user}\0${opts.auth.pass}`).toString('base64');
      failed = await step(`AUTH PLAIN ${plain}`, /^235/);
      if (failed) return failed;
    }
    failed = (await step(`MAIL FROM:<${opts.from}>`, /^250/)) ?? (await step(`RCPT TO:<${opts.to}>`, /^250/)) ?? (await step('DATA', /^354/));
    if (failed) return failed;
    c.write(`From: ${opts.from}\r\nTo: ${opts.to}\r\nSubject: ${opts.subject}\r\n\r\n${opts.body ?? opts.subject}\r\n.\r\n`);
    const final = await reply();
    c.write('QUIT\r\n');
    return final;
  } finally {
    c.close();
  }
}

/** A logged-in IMAP connection; `cmd` resolves with everything up to and including the tagged reply. */
export class ImapClient {
  private n = 0;
  private constructor(private readonly c: Wire) {}
  static async login(port: number, user: string, pass: string): Promise<ImapClient> {
    const c = await Wire.connect(port);
    await c.until(/^\* OK.*\r\n/m, 5000);
    const imap = new ImapClient(c);
    const r = await imap.cmd(`LOGIN ${user} ${pass}`);
    if (!/^\S+ OK/m.test(r)) throw new Error(`LOGIN failed: ${r}`);
    return imap;
  }
  async cmd(line: string, literal?: string, timeoutMs = 10_000): Promise<string> {
    const tag = `t${++this.n}`;
    if (literal === undefined) this.c.write(`${tag} ${line}\r\n`);
    else this.c.write(`${tag} ${line} {${Buffer.byteLength(literal)}+}\r\n${literal}\r\n`);
    return this.c.until(new RegExp(`^(${tag}|\\* BYE) .*\\r\\n`, 'm'), timeoutMs);
  }
  /** The tagged (or BYE) line of a reply. */
  static status(reply: string): string {
    return reply.trimEnd().split('\r\n').at(-1)!;
  }
  async subjects(mailbox: string): Promise<string[]> {
    const sel = await this.cmd(`EXAMINE ${mailbox}`);
    if (!/^\S+ OK/m.test(ImapClient.status(sel))) throw new Error(`EXAMINE ${mailbox}: ${sel}`);
    if (/\* 0 EXISTS/.test(sel)) return [];
    const r = await this.cmd('FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    return [...r.matchAll(/\r\nSubject: ([^\r]+)/g)].map((m) => m[1]!);
  }
  close(): void {
    this.c.close();
  }
}

/** A logged-in POP3 session; each call returns the status line. */
export class Pop3Client {
  private constructor(private readonly c: Wire) {}
  static async login(port: number, user: string, pass: string): Promise<Pop3Client> {
    const c = await Wire.connect(port);
    const pop = new Pop3Client(c);
    await pop.line();
    c.write(`USER ${user}\r\nPASS ${pass}\r\n`);
    await pop.line();
    const ok = await pop.line();
    if (!ok.startsWith('+OK')) throw new Error(`POP3 login: ${ok}`);
    return pop;
  }
  private async line(): Promise<string> {
    return (await this.c.until(/^[-+].*\r\n/m, 10_000)).trimEnd();
  }
  cmd(line: string): Promise<string> {
    this.c.write(`${line}\r\n`);
    return this.line();
  }
  close(): void {
    this.c.close();
  }
}

/** POP3 STAT: the number of messages in the maildrop. */
export async function pop3Count(port: number, user: string, pass: string): Promise<number> {
  const c = await Wire.connect(port);
  const line = () => c.until(/^[-+].*\r\n/m, 10_000);
  try {
    await line();
    c.write(`USER ${user}\r\nPASS ${pass}\r\n`);
    await line();
    const ok = await line();
    if (!ok.startsWith('+OK')) throw new Error(`POP3 login: ${ok}`);
    c.write('STAT\r\n');
    const stat = await line();
    c.write('QUIT\r\n');
    return Number(/^\+OK (\d+)/.exec(stat)?.[1] ?? NaN);
  } finally {
    c.close();
  }
}
