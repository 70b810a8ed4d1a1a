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
  /** SPF, DMARC and MTA-STS records; may be changed while the server runs (a new MTA-STS policy id). */
  txt?: Record<string, string[]>;
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
      } else if (q?.type === Packet.TYPE.TXT) {
        for (const data of zone.txt?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data });
      } else if (q?.type === Packet.TYPE.A) {
        for (const address of zone.a?.[name] ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address });
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
  /** The raw bytes of the message as the peer got them. */
  raw: Buffer;
  /** MAIL FROM parameters (SMTPUTF8, BODY), upper-case names. */
  args: Record<string, string | true>;
  /** The session ran over TLS (STARTTLS). */
  secure: boolean;
  /** Which connection (in order of arrival, from 1) carried it. */
  connection: number;
}

export interface MxOptions {
  /** STARTTLS: off (default), with smtp-server's own self-signed certificate, with this key and certificate, or offered and then failing in the handshake. */
  starttls?: 'self-signed' | 'broken' | { key: string; cert: string };
  hideSMTPUTF8?: boolean;
  hide8BITMIME?: boolean;
}

/** Decides each RCPT: undefined accepts, otherwise the reply code and text. */
export type RcptPolicy = (rcpt: string) => { code: number; message: string } | undefined;

export interface TestMx {
  port: number;
  received: Received[];
  policy: RcptPolicy;
  /** Users that logged in with AUTH, in order. */
  logins: string[];
  /** SMTP connections accepted so far. */
  connections: number;
  /** Connections open now, and the most open at once. */
  open: number;
  maxOpen: number;
  close(): Promise<void>;
}

/**
 * With `credentials`, the peer is a smarthost offering AUTH PLAIN/LOGIN without TLS.
 * With `holdData`, the reply to each message's final "." waits for the promise it
 * returns; a client gone meanwhile gets nothing recorded (it never saw a 250).
 */
export async function startMx(credentials?: { user: string; pass: string }, holdData?: (data: string) => Promise<void> | undefined, options: MxOptions = {}): Promise<TestMx> {
  const mx: TestMx = { port: 0, received: [], policy: () => undefined, logins: [], connections: 0, open: 0, maxOpen: 0, close: async () => {} };
  const closed = new Set<string>();
  const connectionOf = new Map<string, number>();
  const tls = options.starttls;
  const server = new SMTPServer({
    onConnect(session, callback) {
      connectionOf.set(session.id, ++mx.connections);
      mx.open++;
      mx.maxOpen = Math.max(mx.maxOpen, mx.open);
      callback();
    },
    onClose(session) {
      closed.add(session.id);
      if (connectionOf.has(session.id)) mx.open--;
    },
    authOptional: credentials === undefined,
    allowInsecureAuth: true,
    disabledCommands: [...(tls ? [] : ['STARTTLS']), ...(credentials ? [] : ['AUTH'])],
    ...(typeof tls === 'object' ? { key: tls.key, cert: tls.cert } : {}),
    // A handshake that fails: the peer speaks only TLS 1.0, which no current client accepts.
    ...(tls === 'broken' ? { minVersion: 'TLSv1' as const, maxVersion: 'TLSv1' as const } : {}),
    ...(options.hideSMTPUTF8 ? { hideSMTPUTF8: true } : {}),
    ...(options.hide8BITMIME ? { hide8BITMIME: true } : {}),
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
        const raw = Buffer.concat(chunks);
        const mailFrom = session.envelope.mailFrom;
        const args = mailFrom === false ? {} : (mailFrom as { args?: Record<string, string | true> | false }).args || {};
        const record = () => {
          mx.received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), data: raw.toString(), raw, args, secure: session.secure, connection: connectionOf.get(session.id) ?? 0 });
          callback();
        };
        const hold = holdData?.(raw.toString());
        if (!hold) return record();
        void hold.then(() => {
          if (closed.has(session.id)) return callback(new Error('client gone'));
          record();
        });
      });
    },
  });
  // Failed handshakes and dropped clients are reported here; the peer carries on.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mx.port = (server.server.address() as AddressInfo).port;
  mx.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return mx;
}
