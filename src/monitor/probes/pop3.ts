// A small POP3 client (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS) and the POP3 probe.
import { LineClient, ProbeError } from './line-client.js';

export class Pop3Client {
  private constructor(private readonly client: LineClient) {}

  static async connect(options: { host: string; port: number; implicitTls: boolean; timeoutMs: number }): Promise<Pop3Client> {
    const client = await LineClient.connect(options);
    const pop = new Pop3Client(client);
    try {
      await pop.status('greeting');
    } catch (err) {
      client.close();
      throw err;
    }
    return pop;
  }

  private async status(what: string): Promise<string> {
    const line = await this.client.readLine();
    if (line.startsWith('+OK')) return line.slice(3).trim();
    throw new ProbeError(`${what}: ${line.slice(0, 120)}`);
  }

  /** Sends a command and reads its status line. */
  async command(line: string, what = line.split(' ')[0] ?? line): Promise<string> {
    this.client.send(line);
    return this.status(what);
  }

  /** A multi-line response (RFC 1939 3): lines up to ".", dot-unstuffed. */
  async multiline(line: string): Promise<string[]> {
    await this.command(line);
    const lines: string[] = [];
    for (;;) {
      const l = await this.client.readLine();
      if (l === '.') return lines;
      lines.push(l.startsWith('..') ? l.slice(1) : l);
    }
  }

  async capabilities(): Promise<string[]> {
    return (await this.multiline('CAPA')).map((l) => l.toUpperCase());
  }

  async stls(): Promise<void> {
    await this.command('STLS');
    await this.client.startTls();
  }

  async login(user: string, password: string): Promise<void> {
    await this.command(`USER ${user}`, 'USER');
    await this.command(`PASS ${password}`, 'PASS');
  }

  /** Message numbers whose headers contain `needle`. */
  async find(needle: string): Promise<number[]> {
    const listing = await this.multiline('LIST');
    const found: number[] = [];
    for (const entry of listing) {
      const n = Number(entry.split(' ')[0]);
      if (!Number.isInteger(n)) continue;
      const headers = await this.multiline(`TOP ${n} 0`);
      if (headers.some((h) => h.includes(needle))) found.push(n);
    }
    return found;
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } finally {
      this.client.close();
    }
  }

  close(): void {
    this.client.close();
  }
}
