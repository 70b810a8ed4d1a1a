// A small IMAP client (RFC 9051 / RFC 3501 subset): greeting, tagged commands with their
// untagged responses, STARTTLS, LOGIN with quoted strings, SEARCH. It does not parse
// literals in responses, so it only sends commands whose answers carry none.
import { LineClient, ProbeError } from './line-client.js';

/** RFC 9051 4.3: a quoted string; CR, LF and NUL cannot be quoted. */
export function quoted(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new ProbeError('value cannot be sent as a quoted string');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export class ImapClient {
  private tag = 0;
  private constructor(private readonly client: LineClient) {}

  static async connect(options: { host: string; port: number; implicitTls: boolean; timeoutMs: number }): Promise<ImapClient> {
    const client = await LineClient.connect(options);
    try {
      const greeting = await client.readLine();
      if (!greeting.startsWith('* OK') && !greeting.startsWith('* PREAUTH')) throw new ProbeError(`greeting: ${greeting.slice(0, 120)}`);
    } catch (err) {
      client.close();
      throw err;
    }
    return new ImapClient(client);
  }

  /** Runs one command; resolves with its untagged lines when it ends OK. */
  async command(line: string, what = line.split(' ')[0] ?? line): Promise<string[]> {
    const tag = `p${++this.tag}`;
    this.client.send(`${tag} ${line}`);
    const untagged: string[] = [];
    for (;;) {
      const reply = await this.client.readLine();
      if (reply.startsWith(`${tag} `)) {
        if (reply.startsWith(`${tag} OK`)) return untagged;
        throw new ProbeError(`${what}: ${reply.slice(tag.length + 1, 140)}`);
      }
      untagged.push(reply);
    }
  }

  async capabilities(): Promise<string[]> {
    const lines = await this.command('CAPABILITY');
    const line = lines.find((l) => l.toUpperCase().startsWith('* CAPABILITY '));
    return line ? line.slice('* CAPABILITY '.length).toUpperCase().split(' ') : [];
  }

  async startTls(): Promise<void> {
    await this.command('STARTTLS');
    await this.client.startTls();
  }

  async login(user: string, password: string): Promise<void> {
    await this.command(`LOGIN ${quoted(user)} ${quoted(password)}`, 'LOGIN');
  }

  /** UIDs in the selected mailbox matching a SEARCH key (e.g. `HEADER Subject "x"`). */
  async uidSearch(criteria: string): Promise<number[]> {
    const lines = await this.command(`UID SEARCH ${criteria}`, 'UID SEARCH');
    return lines
      .filter((l) => l.toUpperCase().startsWith('* SEARCH'))
      .flatMap((l) => l.slice('* SEARCH'.length).trim().split(' '))
      .filter((t) => t !== '')
      .map(Number);
  }

  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT');
    } catch {
      // the server may close first
    } finally {
      this.client.close();
    }
  }

  close(): void {
    this.client.close();
  }
}
