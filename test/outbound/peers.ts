// Loopback peers for the outbound queue tests: a dns2 server answering MX, A and AAAA
// from a table (everything else NXDOMAIN, or NODATA for a name in the table), and an
// smtp-server instance standing in for a remote MX.

import { createRequire } from 'node:module';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { AddressInfo } from 'node:net';

interface DnsPacket {
  questions: Array<{ name: string; type: number }>;
  answers: object[];
  header: { rcode: number };
}
interface Dns2 {
  Packet: { TYPE: { A: number; AAAA: number; MX: number; TXT: number }; CLASS: { IN: number }; createResponseFromRequest(r: DnsPacket): DnsPacket };
  createServer(o: { udp: boolean; handle(req: DnsPacket, send: (r: DnsPacket) => void): void }): {
    listen(o: object): Promise<{ udp: { port: number } }>;
    close(): Promise<unknown>;
  };
}
const dns2 = createRequire(import.meta.url)('dns2') as Dns2;

export interface DnsZone {
  mx?: Record<string, Array<{ exchange: string; priority: number }>>;
  a?: Record<string, string[]>;
  /** SPF and DMARC records, for the verification of inbound mail. */
  txt?: Record<string, string>;
}

export async function startDns(zone: DnsZone): Promise<{ server: string; close(): Promise<void> }> {
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      const name = q?.name.toLowerCase() ?? '';
      const known = name in (zone.mx ?? {}) || name in (zone.a ?? {}) || name in (zone.txt ?? {});
      if (q?.type === Packet.TYPE.MX) {
        for (const r of zone.mx?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 60, exchange: r.exchange, priority: r.priority });
      } else if (q?.type === Packet.TYPE.A) {
        for (const address of zone.a?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address });
      } else if (q?.type === Packet.TYPE.TXT) {
        const txt = zone.txt?.[name];
        if (txt !== undefined) response.answers.push({ name: q.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: [txt] });
      }
      if (!known) response.header.rcode = 3; // NXDOMAIN
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } });
  return {
    server: `127.0.0.1:${addresses.udp.port}`,
    close: async () => {
      await server.close();
    },
  };
}

export interface Received {
  from: string;
  to: string[];
  data: string;
}

/** Decides each RCPT: undefined accepts, otherwise the reply code and text. */
export type RcptPolicy = (rcpt: string) => { code: number; message: string } | undefined;

export interface TestMx {
  port: number;
  received: Received[];
  policy: RcptPolicy;
  /** Users that logged in with AUTH, in order. */
  logins: string[];
  close(): Promise<void>;
}

/**
 * With `credentials`, the peer is a smarthost offering AUTH PLAIN/LOGIN without TLS.
 * With `holdData`, the reply to each message's final "." waits for the promise it
 * returns; a client gone meanwhile gets nothing recorded (it never saw a 250).
 */
export async function startMx(credentials?: { user: string; pass: string }, holdData?: () => Promise<void>): Promise<TestMx> {
  const mx: TestMx = { port: 0, received: [], policy: () => undefined, logins: [], close: async () => {} };
  const closed = new Set<string>();
  const server = new SMTPServer({
    onClose(session) {
      closed.add(session.id);
    },
    authOptional: credentials === undefined,
    allowInsecureAuth: true,
    disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (!credentials || auth.username !== credentials.user || auth.password !== credentials.pass) return callback(new Error('535 5.7.8 bad credentials'));
      mx.logins.push(auth.username ?? '');
      callback(null, { user: auth.username });
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const refusal = mx.policy(address.address);
      if (!refusal) return callback();
      callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const record = () => {
          mx.received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString() });
          callback();
        };
        if (!holdData) return record();
        void holdData().then(() => {
          if (closed.has(session.id)) return callback(new Error('client gone'));
          record();
        });
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mx.port = (server.server.address() as AddressInfo).port;
  mx.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return mx;
}
